using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>Small ONNX graphs built with <see cref="OnnxModelWriter"/>'s object model for tests.</summary>
internal static class OnnxTestGraphs
{
    /// <summary>y = x @ W + b with x: (batch, in) symbolic batch, W: [in, out] = 0.1*(i*out+j) - 0.3, b: [out] = j + 0.5.</summary>
    public static OnnxModel MatMulAdd(int inFeatures, int outFeatures)
    {
        float[] w = new float[inFeatures * outFeatures];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = 0.1f * i - 0.3f;
        }
        float[] b = Enumerable.Range(0, outFeatures).Select(j => j + 0.5f).ToArray();
        var graph = new OnnxGraph
        {
            Name = "matmul_add",
            Initializers =
            {
                OnnxTensor.FromFloats("W", [inFeatures, outFeatures], w),
                OnnxTensor.FromFloats("b", [outFeatures], b),
            },
            Nodes =
            {
                new OnnxNode { Name = "mm", OpType = "MatMul", Inputs = { "x", "W" }, Outputs = { "xw" } },
                new OnnxNode { Name = "add", OpType = "Add", Inputs = { "xw", "b" }, Outputs = { "y" } },
            },
            Inputs = { new OnnxValueInfo { Name = "x", ElemType = OnnxDataType.Float, Shape = [OnnxDim.Symbolic("batch"), OnnxDim.Fixed(inFeatures)] } },
            Outputs = { new OnnxValueInfo { Name = "y", ElemType = OnnxDataType.Float, Shape = [OnnxDim.Symbolic("batch"), OnnxDim.Fixed(outFeatures)] } },
        };
        return new OnnxModel { IrVersion = 8, ProducerName = "FineTune.MLNet.Tests", Graph = graph, OpsetImports = { new OnnxOpsetImport("", 13) } };
    }
}
