package dev.msnexport.trt;

import dev.msnexport.common.BadInputException;
import dev.msnexport.profiles.Profile;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;

/**
 * The optimization profile of a deployment profile's batch shapes: min/opt/max of the batch
 * dimension (dim 0, the only dynamic one) of every network input.
 */
final class BatchProfile {
  private BatchProfile() {}

  /** Sets the batch range of every input; returns the first input (recorded in the sidecar). */
  static EngineMetadata.InputInfo apply(
      INetworkDefinition network, IOptimizationProfile profile, Profile.BatchShapes b) {
    EngineMetadata.InputInfo first = null;
    for (int i = 0; i < network.getNbInputs(); i++) {
      ITensor t = network.getInput(i);
      List<Long> shape = shapeOf(t);
      for (nvinfer.OptProfileSelector sel : nvinfer.OptProfileSelector.values()) {
        long batch =
            sel == nvinfer.OptProfileSelector.kMIN
                ? b.min()
                : sel == nvinfer.OptProfileSelector.kOPT ? b.opt() : b.max();
        long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
        dims[0] = batch;
        try (Dims64 d = IoBuffers.dims(dims)) {
          if (!profile.setDimensions(t.getName(), sel, d)) {
            throw new TrtException(
                "cannot set the "
                    + sel
                    + " shape of input '"
                    + t.getName()
                    + "'"
                    + TrtLogger.get().describeErrors());
          }
        }
      }
      if (first == null) {
        first = new EngineMetadata.InputInfo(t.getName(), shape);
      }
    }
    if (first == null) {
      throw new BadInputException("the ONNX graph has no inputs");
    }
    return first;
  }

  /** The input's shape, checked: a dynamic batch dimension 0 and static dimensions after it. */
  private static List<Long> shapeOf(ITensor t) {
    String name = t.getName();
    Dims64 d = t.getDimensions();
    int n = d.nbDims();
    List<Long> shape = new ArrayList<>();
    for (int j = 0; j < n; j++) {
      shape.add(d.d(j));
      if (j > 0 && d.d(j) < 0) {
        throw new BadInputException(
            "input '"
                + name
                + "' has a dynamic dimension "
                + j
                + " "
                + shape
                + "; only the batch (dimension 0) may be dynamic");
      }
    }
    if (n < 1 || d.d(0) >= 0) {
      throw new BadInputException(
          "input '" + name + "' has shape " + shape + " without a dynamic batch dimension 0");
    }
    return shape;
  }
}
