//===- Codegen.cpp - Writing the static library and headers ---------------===//
#include "netc/Codegen/Codegen.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <fstream>

namespace netc::codegen {

namespace {

bool writeText(const std::string &path, const std::string &text, std::string &error) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    error = path + ": cannot write";
    return false;
  }
  return true;
}

/// A private directory next to the outputs, removed on every exit path.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

bool writeHalideRuntime(const std::string &path, const Halide::Target &target,
                        std::string &error) {
  try {
    std::string tmp = path + ".tmp";
    Halide::compile_standalone_runtime(
        std::map<Halide::OutputFileType, std::string>{{Halide::OutputFileType::static_library, tmp}},
        target);
    if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
      llvm::sys::fs::remove(tmp);
      error = path + ": " + ec.message();
      return false;
    }
  } catch (const Halide::Error &e) {
    error = std::string("Halide runtime generation failed: ") + e.what();
    return false;
  }
  return true;
}

bool writeLibrary(lowering::Program &program, const CodegenOptions &options,
                  std::string &error) {
  const std::string &name = program.name;
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir)) {
    error = options.outputDir + ": cannot create the output directory: " + ec.message();
    return false;
  }
  TempDir tmp;
  {
    llvm::SmallString<256> model(options.outputDir);
    llvm::sys::fs::make_absolute(model); // a relative prefix would land in /tmp
    llvm::sys::path::append(model, ".netc-" + name);
    llvm::SmallString<256> created;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(model, created)) {
      error = options.outputDir + ": cannot create a temporary directory: " + ec.message();
      return false;
    }
    // createUniqueDirectory appends its own suffix; use what it made.
    tmp.path = std::string(created);
  }
  auto inTmp = [&](const std::string &file) { return tmp.path + "/" + file; };

  // One object per distinct pipeline, without the runtime.
  std::vector<std::string> objects;
  // Every pipeline takes the call (netc/program.h) as its user context.
  Halide::Target target = options.target.with_feature(Halide::Target::NoRuntime)
                              .with_feature(Halide::Target::UserContext);
  try {
    for (lowering::Group &group : program.groups) {
      std::string object = inTmp(group.function + ".o");
      group.pipeline.compile_to_object(object, group.arguments(), group.function, target);
      objects.push_back(object);
    }
  } catch (const Halide::Error &e) {
    error = std::string("Halide code generation failed: ") + e.what();
    return false;
  }

  // The driver, compiled with the host C compiler.
  std::string header = emitHeader(program);
  if (!writeText(inTmp(name + ".h"), header, error) ||
      !writeText(inTmp(name + "_driver.c"), emitDriver(program), error) ||
      !writeText(inTmp(name + ".hpp"), emitCppHeader(program), error))
    return false;
  std::string driverObject = inTmp(name + "_driver.o");
  std::vector<std::string> args = {options.cCompiler, "-std=c11", "-O2", "-fPIC", "-g0",
                                   "-Wall", "-Wextra", "-Werror",
                                   "-ffile-prefix-map=" + tmp.path + "/=",
                                   "-c", inTmp(name + "_driver.c"), "-o", driverObject};
  for (const std::string &dir : options.includeDirs)
    args.insert(args.begin() + 1, "-I" + dir);
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  // A name is searched on PATH; a path must name an executable.
  llvm::ErrorOr<std::string> compiler =
      options.cCompiler.find('/') == std::string::npos
          ? llvm::sys::findProgramByName(options.cCompiler)
          : llvm::sys::fs::can_execute(options.cCompiler)
                ? llvm::ErrorOr<std::string>(options.cCompiler)
                : llvm::ErrorOr<std::string>(std::make_error_code(std::errc::no_such_file_or_directory));
  if (!compiler) {
    error = "cannot find the C compiler '" + options.cCompiler + "' (set --cc or NETC_CC)";
    return false;
  }
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*compiler, argRefs, llvm::None, {}, 0, 0, &message);
  if (rc != 0) {
    error = "compiling the generated driver with " + options.cCompiler + " failed" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  objects.insert(objects.begin(), driverObject);
  std::string library = inTmp("lib" + name + ".a");
  try {
    Halide::create_static_library(objects, options.target, library, /*deterministic=*/true);
  } catch (const Halide::Error &e) {
    error = std::string("creating the static library failed: ") + e.what();
    return false;
  }

  // Everything exists: move it into place.
  for (const std::string &file : {"lib" + name + ".a", name + ".h", name + ".hpp"}) {
    std::string target = options.outputDir + "/" + file;
    if (std::error_code ec = llvm::sys::fs::rename(inTmp(file), target)) {
      error = target + ": " + ec.message();
      return false;
    }
  }
  return true;
}

} // namespace netc::codegen
