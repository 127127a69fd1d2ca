// The library's only two exported symbols, looked up with dlsym by TensorRT's
// IPluginRegistry::loadLibrary: getCreators and setLoggerFinder.
#include "msn_trt_abi.h"

#include "../msn_layer/MsnLayerPlugin.h"
#include "../pkm_retrieval/PkmRetrievalPlugin.h"
#include "../sparse_gather/SparseGatherPlugin.h"

#include <atomic>

#define MSN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
std::atomic<msn::trt::LoggerFinder*> gLoggerFinder{nullptr};
// One per op of the op table (msn_op_table.h); plugin_abi_test fails when they differ.
constexpr int32_t kNbCreators = 3;
} // namespace

// The creators are allocated once and never freed: TensorRT's registry may outlive this
// library's static destructors at process exit and must still find valid objects.
MSN_EXPORT msn::trt::PluginCreatorInterface* const* getCreators(int32_t& nbCreators) {
    static msn::trt::PluginCreatorInterface* const* const creators = [] {
        // One creator per op of the table, in table order (plugin_abi_test checks each against it).
        auto** list = new msn::trt::PluginCreatorInterface*[kNbCreators];
        list[0] = new msn::trt::PkmRetrievalCreator();
        list[1] = new msn::trt::SparseGatherCreator();
        list[2] = new msn::trt::MsnLayerCreator();
        return list;
    }();
    nbCreators = kNbCreators;
    return creators;
}

// Stored only: no logging goes through it (see plugin_common.h, reportError).
MSN_EXPORT void setLoggerFinder(msn::trt::LoggerFinder* finder) { gLoggerFinder.store(finder); }
