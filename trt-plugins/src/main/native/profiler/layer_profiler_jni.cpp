// The per-layer timer behind `msn-export bench --layer-profile`: an object TensorRT calls through
// its IProfiler interface (IExecutionContext::setProfiler) once per layer and inference, and the
// JNI entry points of dev.msnexport.trt.LayerProfiler that create it and read what it collected.
//
// JavaCPP's TensorRT 10.6 bindings cannot subclass IProfiler from Java (the class has no callback
// adapter), hence this small library. It needs no TensorRT or CUDA headers: TensorRT only ever
// calls the first virtual function of the object it is given, so our own declaration of that
// interface's layout is all it takes (TensorRT 10's NvInferRuntime.h: `virtual void
// reportLayerTime(char const* layerName, float ms) noexcept = 0;` then a virtual destructor; checked
// on a GPU by LayerProfilerGpuTest, which compares the reported names with the engine's layers).
#include <jni.h>

#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace msn {

// The vtable layout TensorRT expects of an IProfiler.
class TrtProfilerInterface {
 public:
  virtual void reportLayerTime(char const* layerName, float ms) noexcept = 0;
  virtual ~TrtProfilerInterface() noexcept {}
};

// Sums the time of each layer name over every report, in the order layers were first reported
// (TensorRT reports in execution order).
class LayerProfiler final : public TrtProfilerInterface {
 public:
  void reportLayerTime(char const* layerName, float ms) noexcept override {
    try {
      std::lock_guard<std::mutex> lock(mutex_);
      std::string name = layerName == nullptr ? std::string("(unnamed)") : std::string(layerName);
      auto it = index_.find(name);
      size_t i;
      if (it == index_.end()) {
        i = names_.size();
        index_.emplace(name, i);
        names_.push_back(std::move(name));
        totalMs_.push_back(0.0);
        calls_.push_back(0);
      } else {
        i = it->second;
      }
      totalMs_[i] += ms;
      calls_[i] += 1;
    } catch (...) {
      dropped_ += 1;  // out of memory: never let an exception cross into TensorRT
    }
  }

  void reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    names_.clear();
    totalMs_.clear();
    calls_.clear();
    index_.clear();
    dropped_ = 0;
  }

  std::mutex mutex_;
  std::vector<std::string> names_;
  std::vector<double> totalMs_;
  std::vector<int64_t> calls_;
  std::unordered_map<std::string, size_t> index_;
  int64_t dropped_ = 0;
};

}  // namespace msn

namespace {

msn::LayerProfiler* of(jlong handle) {
  return static_cast<msn::LayerProfiler*>(reinterpret_cast<msn::TrtProfilerInterface*>(static_cast<intptr_t>(handle)));
}

bool inRange(JNIEnv* env, msn::LayerProfiler* p, jint i) {
  if (i < 0 || static_cast<size_t>(i) >= p->names_.size()) {
    jclass e = env->FindClass("java/lang/IndexOutOfBoundsException");
    if (e != nullptr) env->ThrowNew(e, "layer index out of range");
    return false;
  }
  return true;
}

}  // namespace

extern "C" {

// The handle is the address TensorRT is given: the object as its IProfiler interface.
JNIEXPORT jlong JNICALL Java_dev_msnexport_trt_LayerProfiler_create(JNIEnv*, jclass) {
  msn::TrtProfilerInterface* p = new (std::nothrow) msn::LayerProfiler();
  return static_cast<jlong>(reinterpret_cast<intptr_t>(p));
}

JNIEXPORT void JNICALL Java_dev_msnexport_trt_LayerProfiler_destroy(JNIEnv*, jclass, jlong handle) {
  delete reinterpret_cast<msn::TrtProfilerInterface*>(static_cast<intptr_t>(handle));
}

JNIEXPORT void JNICALL Java_dev_msnexport_trt_LayerProfiler_reset(JNIEnv*, jclass, jlong handle) { of(handle)->reset(); }

// Reports through the interface, exactly as TensorRT does: lets tests check the dispatch without a GPU.
JNIEXPORT void JNICALL Java_dev_msnexport_trt_LayerProfiler_report(JNIEnv* env, jclass, jlong handle, jstring name, jfloat ms) {
  char const* n = env->GetStringUTFChars(name, nullptr);
  if (n == nullptr) return;
  reinterpret_cast<msn::TrtProfilerInterface*>(static_cast<intptr_t>(handle))->reportLayerTime(n, ms);
  env->ReleaseStringUTFChars(name, n);
}

JNIEXPORT jint JNICALL Java_dev_msnexport_trt_LayerProfiler_count(JNIEnv*, jclass, jlong handle) {
  msn::LayerProfiler* p = of(handle);
  std::lock_guard<std::mutex> lock(p->mutex_);
  return static_cast<jint>(p->names_.size());
}

JNIEXPORT jstring JNICALL Java_dev_msnexport_trt_LayerProfiler_name(JNIEnv* env, jclass, jlong handle, jint i) {
  msn::LayerProfiler* p = of(handle);
  std::lock_guard<std::mutex> lock(p->mutex_);
  if (!inRange(env, p, i)) return nullptr;
  return env->NewStringUTF(p->names_[static_cast<size_t>(i)].c_str());
}

JNIEXPORT jdouble JNICALL Java_dev_msnexport_trt_LayerProfiler_totalMs(JNIEnv* env, jclass, jlong handle, jint i) {
  msn::LayerProfiler* p = of(handle);
  std::lock_guard<std::mutex> lock(p->mutex_);
  if (!inRange(env, p, i)) return 0;
  return p->totalMs_[static_cast<size_t>(i)];
}

JNIEXPORT jlong JNICALL Java_dev_msnexport_trt_LayerProfiler_calls(JNIEnv* env, jclass, jlong handle, jint i) {
  msn::LayerProfiler* p = of(handle);
  std::lock_guard<std::mutex> lock(p->mutex_);
  if (!inRange(env, p, i)) return 0;
  return p->calls_[static_cast<size_t>(i)];
}

JNIEXPORT jlong JNICALL Java_dev_msnexport_trt_LayerProfiler_dropped(JNIEnv*, jclass, jlong handle) {
  msn::LayerProfiler* p = of(handle);
  std::lock_guard<std::mutex> lock(p->mutex_);
  return p->dropped_;
}

}  // extern "C"
