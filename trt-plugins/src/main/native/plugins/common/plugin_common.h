// Helpers shared by the plugins: type mapping, shape arithmetic, attribute lookup, error output.
#ifndef MSN_PLUGIN_COMMON_H
#define MSN_PLUGIN_COMMON_H

#include "msn_trt_abi.h"
#include "../../kernels/msn_kernels.h"
#include "msn_op_table.h"   // generated from core's ops.json at configure time

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace msn {
namespace trt {

// Every plugin of this library: the op table's plugin version and namespace (the exporter writes
// these as the ONNX node attributes plugin_version / plugin_namespace).
constexpr const char* kPluginVersion = op_table::kPluginVersion;
constexpr const char* kPluginNamespace = op_table::kPluginNamespace;

// Errors go to stderr with the plugin's name: TensorRT only learns a non-zero status or a null
// plugin, and its logger is not part of the interface subset we declare.
inline void reportError(const char* plugin, const char* message) noexcept {
    std::fprintf(stderr, "msn_trt_plugins: %s: %s\n", plugin, message);
}

// TensorRT data type -> kernel data type; false when the kernels have no such type.
inline bool toKernelType(DataType t, msn_dtype& out) noexcept {
    switch (t) {
    case DataType::kFLOAT: out = MSN_FLOAT32; return true;
    case DataType::kHALF: out = MSN_FLOAT16; return true;
    case DataType::kBF16: out = MSN_BFLOAT16; return true;
    case DataType::kINT32: out = MSN_INT32; return true;
    case DataType::kINT64: out = MSN_INT64; return true;
    case DataType::kINT8: out = MSN_INT8; return true;
    case DataType::kFP8: out = MSN_FLOAT8_E4M3; return true;
    default: return false;
    }
}

inline bool isFloatOrHalf(DataType t) noexcept { return t == DataType::kFLOAT || t == DataType::kHALF; }

// Product of d[from, to); -1 when one of them is unknown (negative).
inline int64_t volume(const Dims64& dims, int from, int to) noexcept {
    int64_t v = 1;
    for (int i = from; i < to; ++i) {
        if (dims.d[i] < 0) return -1;
        v *= dims.d[i];
    }
    return v;
}

// The attribute `name` with one value (length 1) of type `Narrow` (field type `narrow`) or
// `Wide` (field type `wide`), converted to T; the first field of that name and length that has
// one of the two types.
template <class Narrow, class Wide, class T>
inline bool findScalarField(const PluginFieldCollection* fc, const char* name, PluginFieldType narrow,
                            PluginFieldType wide, T& value) noexcept {
    if (fc == nullptr) return false;
    for (int32_t i = 0; i < fc->nbFields; ++i) {
        const PluginField& f = fc->fields[i];
        if (f.name == nullptr || std::strcmp(f.name, name) != 0 || f.data == nullptr || f.length != 1) continue;
        if (f.type == narrow) {
            value = static_cast<T>(*static_cast<const Narrow*>(f.data));
            return true;
        }
        if (f.type == wide) {
            value = static_cast<T>(*static_cast<const Wide*>(f.data));
            return true;
        }
    }
    return false;
}

// The attribute `name` as an integer: accepts kINT32 or kINT64 with length 1.
inline bool findIntField(const PluginFieldCollection* fc, const char* name, int64_t& value) noexcept {
    return findScalarField<int32_t, int64_t>(fc, name, PluginFieldType::kINT32, PluginFieldType::kINT64, value);
}

// The attribute `name` as a float: accepts kFLOAT32 or kFLOAT64 with length 1.
inline bool findFloatField(const PluginFieldCollection* fc, const char* name, float& value) noexcept {
    return findScalarField<float, double>(fc, name, PluginFieldType::kFLOAT32, PluginFieldType::kFLOAT64, value);
}

} // namespace trt
} // namespace msn

#endif // MSN_PLUGIN_COMMON_H
