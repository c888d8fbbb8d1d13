# netc_add_model(<target> SPEC <file.nn> ENTRY <entry> | SPEC <model.onnx>
#                [NAME <c-identifier>] [INPUT_SHAPE N,C,H,W]
#                [TARGETS host|host-cuda[-cuda_capability_NN]|<halide-target>]
#                [EMBED_WEIGHTS <file.safetensors>]
#                [PRECISION fp32|bf16|int8] [QPARAMS <Q.json>]
#                [FP32_LAYERS <module path>...]
#                [ISA avx2|avx512|avx512-vnni|host...])
#
# Compiles a network with netc at build time into a library target: link it
# and include "<NAME>.h" (C) or "<NAME>.hpp" (C++). NAME defaults to <target>.
# An ONNX model is one network: no ENTRY; EMBED_WEIGHTS may name the model
# itself, to embed its initializers.
# The library is rebuilt when the spec or the netc executable changes.
# EMBED_WEIGHTS puts the weights into the library (checked at build time;
# NAME_load_embedded loads them), for a single binary with no file to ship.
# PRECISION bf16 computes the convs and linears on BF16 operands (netc
# --precision); int8 on u8 activations and s8 weights, with the tensors'
# quantization from QPARAMS (a Q.json written by netc calibrate; the library
# is rebuilt when it changes); FP32_LAYERS keeps the layers under these
# module paths in float32. The C API, input, output and weights file stay float32.
# ISA chooses the x86 code variants the library carries (netc --isa; default:
# those the precision needs), of which it runs the highest the CPU has. All models in one
# binary share one Halide runtime (target netc_halide_runtime), made for the
# first model's target: declare CUDA models before CPU ones. A CUDA model
# needs the NVIDIA driver at run time (loaded then; nothing to link).
#
# Needs NETC_EXECUTABLE (the netc driver), NETC_RUNTIME_TARGET (the netc
# runtime library target) and, in-tree, NETC_EXECUTABLE_TARGET.
include_guard(GLOBAL)
find_package(Threads REQUIRED)

# The GPU API a target string asks for (cuda, opencl), or "".
function(_netc_device_api target_spec out)
  set(api "")
  if(target_spec MATCHES "(^|-)cuda(-|$)")
    set(api cuda)
  elseif(target_spec MATCHES "(^|-)opencl(-|$)")
    set(api opencl)
  endif()
  set(${out} ${api} PARENT_SCOPE)
endfunction()

# One Halide runtime per binary, made for the first model's target; a GPU
# runtime serves CPU models too, so GPU models must come first.
function(_netc_halide_runtime target_spec)
  if(TARGET netc_halide_runtime)
    get_property(made GLOBAL PROPERTY NETC_HALIDE_RUNTIME_TARGET)
    _netc_device_api("${target_spec}" wanted)
    _netc_device_api("${made}" have)
    if(wanted AND NOT wanted STREQUAL have)
      message(FATAL_ERROR "netc_add_model: TARGETS ${target_spec} needs a Halide runtime with "
                          "${wanted}, but the one runtime all models share was made for "
                          "'${made}' by an earlier netc_add_model; declare the GPU models "
                          "first (their runtime serves CPU models too)")
    endif()
    return()
  endif()
  set_property(GLOBAL PROPERTY NETC_HALIDE_RUNTIME_TARGET "${target_spec}")
  set(file ${CMAKE_BINARY_DIR}/netc/libnetc_halide_runtime.a)
  add_custom_command(OUTPUT ${file}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/netc
    COMMAND ${NETC_EXECUTABLE} --halide-runtime ${file} --target ${target_spec}
    DEPENDS ${NETC_EXECUTABLE_TARGET} ${NETC_EXECUTABLE}
    COMMENT "netc: writing the shared Halide runtime" VERBATIM)
  add_custom_target(netc_halide_runtime_file DEPENDS ${file})
  add_library(netc_halide_runtime INTERFACE)
  target_link_libraries(netc_halide_runtime INTERFACE ${file} Threads::Threads ${CMAKE_DL_LIBS})
  add_dependencies(netc_halide_runtime netc_halide_runtime_file)
endfunction()

function(netc_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SPEC;ENTRY;NAME;INPUT_SHAPE;EMBED_WEIGHTS;PRECISION;QPARAMS"
                        "TARGETS;FP32_LAYERS;ISA")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "netc_add_model(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(onnx FALSE)
  if(ARG_SPEC MATCHES "\\.onnx$")
    set(onnx TRUE)
  endif()
  if(NOT ARG_SPEC OR (NOT ARG_ENTRY AND NOT onnx))
    message(FATAL_ERROR "netc_add_model(${target}): SPEC and ENTRY are required")
  endif()
  if(onnx AND ARG_ENTRY)
    message(FATAL_ERROR "netc_add_model(${target}): an ONNX model is one network; drop ENTRY")
  endif()
  if(NOT NETC_EXECUTABLE)
    message(FATAL_ERROR "netc_add_model(${target}): NETC_EXECUTABLE is not set")
  endif()
  get_filename_component(spec ${ARG_SPEC} ABSOLUTE)
  if(NOT EXISTS ${spec})
    message(FATAL_ERROR "netc_add_model(${target}): spec file ${spec} does not exist")
  endif()
  set(name ${target})
  if(ARG_NAME)
    set(name ${ARG_NAME})
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "netc_add_model(${target}): '${name}' is not a C identifier; give NAME")
  endif()
  set(target_spec host)
  if(ARG_TARGETS)
    list(LENGTH ARG_TARGETS count)
    if(count GREATER 1)
      message(FATAL_ERROR "netc_add_model(${target}): one target at a time for now")
    endif()
    set(target_spec ${ARG_TARGETS})
  endif()
  set(extra)
  if(ARG_INPUT_SHAPE)
    list(APPEND extra --input-shape ${ARG_INPUT_SHAPE})
  endif()
  if(ARG_PRECISION)
    if(NOT ARG_PRECISION MATCHES "^(fp32|bf16|int8)$")
      message(FATAL_ERROR "netc_add_model(${target}): PRECISION '${ARG_PRECISION}' is not one "
                          "of fp32, bf16, int8")
    endif()
    list(APPEND extra --precision ${ARG_PRECISION})
  endif()
  set(qparams)
  if(ARG_PRECISION STREQUAL "int8" AND NOT ARG_QPARAMS)
    message(FATAL_ERROR "netc_add_model(${target}): PRECISION int8 needs QPARAMS <Q.json> "
                        "(written by netc calibrate)")
  endif()
  if(ARG_QPARAMS)
    if(NOT ARG_PRECISION STREQUAL "int8")
      message(FATAL_ERROR "netc_add_model(${target}): QPARAMS goes with PRECISION int8")
    endif()
    get_filename_component(qparams ${ARG_QPARAMS} ABSOLUTE)
    if(NOT EXISTS ${qparams})
      message(FATAL_ERROR "netc_add_model(${target}): QPARAMS file ${qparams} does not exist")
    endif()
    list(APPEND extra --qparams ${qparams})
  endif()
  if(ARG_FP32_LAYERS)
    list(JOIN ARG_FP32_LAYERS "," layers)
    list(APPEND extra --fp32-layers ${layers})
  endif()
  if(ARG_ISA)
    list(JOIN ARG_ISA "," isas)
    list(APPEND extra --isa ${isas})
  endif()
  set(weights)
  if(ARG_EMBED_WEIGHTS)
    get_filename_component(weights ${ARG_EMBED_WEIGHTS} ABSOLUTE)
    if(NOT EXISTS ${weights})
      message(FATAL_ERROR "netc_add_model(${target}): EMBED_WEIGHTS file ${weights} does not exist")
    endif()
    list(APPEND extra --embed-weights ${weights})
  endif()

  set(entry --entry ${ARG_ENTRY})
  set(what ${ARG_ENTRY})
  if(onnx)
    set(entry)
    get_filename_component(what ${ARG_SPEC} NAME)
  endif()

  _netc_halide_runtime(${target_spec})
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/netc/${target})
  set(outputs ${dir}/lib${name}.a ${dir}/${name}.h ${dir}/${name}.hpp)
  add_custom_command(OUTPUT ${outputs}
    COMMAND ${NETC_EXECUTABLE} ${spec} ${entry} --name ${name}
            --target ${target_spec} -o ${dir} ${extra}
    DEPENDS ${spec} ${weights} ${qparams} ${NETC_EXECUTABLE_TARGET} ${NETC_EXECUTABLE}
    COMMENT "netc: compiling ${what} from ${ARG_SPEC}" VERBATIM)
  add_custom_target(${target}_netc DEPENDS ${outputs})
  add_library(${target} INTERFACE)
  target_include_directories(${target} INTERFACE ${dir})
  target_link_libraries(${target} INTERFACE ${dir}/lib${name}.a netc_halide_runtime
                        ${NETC_RUNTIME_TARGET})
  add_dependencies(${target} ${target}_netc)
  # The archive alone, for builds that link their own runtime (a sanitizer's).
  set_target_properties(${target} PROPERTIES NETC_LIBRARY ${dir}/lib${name}.a
                        NETC_INCLUDE_DIR ${dir})
endfunction()
