//===- ObjectCode.cpp - Pipelines and the Halide runtime as machine code --===//
#include "netc/Codegen/ObjectCode.h"

#include "netc/Lowering/TargetInfo.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace netc::codegen {

bool compileObject(const lowering::Program &program, lowering::Group &group, std::string &object,
                   std::string &error) {
  Halide::Target target = program.target.with_feature(Halide::Target::NoRuntime)
                              .with_feature(Halide::Target::UserContext);
  try {
    Halide::Module module = group.pipeline.compile_to_module(group.arguments(), group.function,
                                                            target);
    llvm::LLVMContext context;
    std::unique_ptr<llvm::Module> code = Halide::compile_module_to_llvm_module(module, context);
    if (program.isa != NETC_ISA_GENERIC) {
      // Halide makes its LLVM target machine from these two module flags.
      const lowering::IsaVariant &variant = lowering::isaVariant(program.isa);
      code->setModuleFlag(llvm::Module::Warning, "halide_mcpu",
                          llvm::MDString::get(context, variant.llvmCpu));
      code->setModuleFlag(llvm::Module::Warning, "halide_mattrs",
                          llvm::MDString::get(context, variant.llvmAttributes));
    }
    llvm::SmallVector<char, 0> bytes;
    llvm::raw_svector_ostream out(bytes);
    Halide::compile_llvm_module_to_object(*code, out);
    object.assign(bytes.begin(), bytes.end());
  } catch (const Halide::Error &e) {
    error = std::string("Halide code generation failed: ") + e.what();
    return false;
  }
  return true;
}

Halide::Target runtimeTarget(const Halide::Target &target) {
  return lowering::variantTarget(target, NETC_ISA_GENERIC);
}

bool compileHalideRuntime(const Halide::Target &target, std::string &object, std::string &error) {
  llvm::SmallString<128> path;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("netc-halide-runtime", "o", path)) {
    error = "cannot create a temporary file: " + ec.message();
    return false;
  }
  std::string file(path);
  try {
    Halide::compile_standalone_runtime(
        std::map<Halide::OutputFileType, std::string>{{Halide::OutputFileType::object, file}},
        runtimeTarget(target));
  } catch (const Halide::Error &e) {
    llvm::sys::fs::remove(file);
    error = std::string("Halide runtime generation failed: ") + e.what();
    return false;
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes = llvm::MemoryBuffer::getFile(file);
  llvm::sys::fs::remove(file);
  if (!bytes) {
    error = file + ": " + bytes.getError().message();
    return false;
  }
  object = (*bytes)->getBuffer().str();
  return true;
}

} // namespace netc::codegen
