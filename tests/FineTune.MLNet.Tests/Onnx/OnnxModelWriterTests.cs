using FineTune.MLNet.Formats.Onnx;
using static FineTune.MLNet.Tests.TestSupport.Close;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace FineTune.MLNet.Tests.Onnx;

public class OnnxModelWriterTests
{
    [Fact]
    public void ReaderReadsBackWhatWriterWrote()
    {
        OnnxModel model = OnnxTestGraphs.MatMulAdd(inFeatures: 3, outFeatures: 2);
        model.Graph.Nodes.Add(new OnnxNode
        {
            Name = "attrs",
            OpType = "Gemm",
            Inputs = { "y", "W2", "" },
            Outputs = { "z" },
            Attributes =
            {
                OnnxAttribute.Int("transB", 1),
                OnnxAttribute.Float("alpha", 0.25f),
                OnnxAttribute.IntList("axes", -1, 0, long.MaxValue),
                OnnxAttribute.FloatList("scales", 1.5f, -2f),
                OnnxAttribute.Text("mode", "nearest"),
                OnnxAttribute.Tensor("value", OnnxTensor.FromInt64s("c", [2], [7L, -8L])),
            },
        });
        model.Graph.Outputs.Add(new OnnxValueInfo { Name = "z", ElemType = OnnxDataType.Float, Shape = null });

        OnnxModel back = OnnxModelReader.Read(OnnxModelWriter.ToBytes(model));

        Assert.Equal(8, back.IrVersion);
        Assert.Equal("FineTune.MLNet.Tests", back.ProducerName);
        Assert.Equal(13, back.DefaultOpset);
        Assert.Equal("matmul_add", back.Graph.Name);
        Assert.Equal(["MatMul", "Add", "Gemm"], back.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["y", "W2", ""], back.Graph.Nodes[2].Inputs);
        Assert.Equal(["z"], back.Graph.Nodes[2].Outputs);

        OnnxNode gemm = back.Graph.Nodes[2];
        Assert.Equal(1, gemm.FindAttribute("transB")!.I);
        Assert.Equal(OnnxAttributeType.Int, gemm.FindAttribute("transB")!.Type);
        Assert.Equal(0.25f, gemm.FindAttribute("alpha")!.F);
        Assert.Equal([-1L, 0, long.MaxValue], gemm.FindAttribute("axes")!.Ints);
        Assert.Equal([1.5f, -2f], gemm.FindAttribute("scales")!.Floats);
        Assert.Equal("nearest", System.Text.Encoding.UTF8.GetString(gemm.FindAttribute("mode")!.S));
        Assert.Equal([7L, -8L], gemm.FindAttribute("value")!.T!.ToInt64Array());

        for (int i = 0; i < model.Graph.Initializers.Count; i++)
        {
            OnnxTensor expected = model.Graph.Initializers[i], actual = back.Graph.Initializers[i];
            Assert.Equal(expected.Name, actual.Name);
            Assert.Equal(expected.Dims, actual.Dims);
            Assert.Equal(expected.ToFloatArray(), actual.ToFloatArray());
        }
        Assert.Equal("x: Float[batch,3]", back.Graph.Inputs.Single().ToString());
        Assert.Equal(["y: Float[batch,2]", "z: Float[?]"], back.Graph.Outputs.Select(o => o.ToString()));
        // Writing what was read gives the same bytes.
        Assert.Equal(OnnxModelWriter.ToBytes(model), OnnxModelWriter.ToBytes(back));
    }

    [Fact]
    public void OnnxRuntimeRunsWrittenMatMulAddGraph()
    {
        const int inFeatures = 3, outFeatures = 2, batch = 2;
        OnnxModel model = OnnxTestGraphs.MatMulAdd(inFeatures, outFeatures);
        float[] w = model.Graph.Initializers[0].ToFloatArray(); // [in, out]
        float[] b = model.Graph.Initializers[1].ToFloatArray();
        float[] x = [1f, 2f, 3f, -1f, 0.5f, 4f];                // (batch, in)

        using var session = new InferenceSession(OnnxModelWriter.ToBytes(model));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [batch, inFeatures]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input }, ["y"]);

        float[] y = results[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal([batch, (long)outFeatures], results[0].GetTensorTypeAndShape().Shape);
        for (int r = 0; r < batch; r++)
        {
            for (int j = 0; j < outFeatures; j++)
            {
                double expected = b[j];
                for (int k = 0; k < inFeatures; k++)
                {
                    expected += x[r * inFeatures + k] * w[k * outFeatures + j];
                }
                AssertClose(expected, y[r * outFeatures + j], atol: 1e-6, rtol: 1e-6, what: $"y[{r}, {j}]");   // three float32 products
            }
        }
        // Hand-checked anchor for row 0, column 0: 0.5 + 1*(-0.3) + 2*(-0.1) + 3*(0.1) = 0.3.
        AssertClose(0.3, y[0], atol: 1e-6, what: "y[0, 0]");
    }

    [Fact]
    public void OnnxRuntimeReadsZeroAttributesThatProto3LeavesOut()
    {
        // The proto3 schema types write no bytes for i = 0 or f = 0. ONNX Runtime must still see keepdims = 0 (default 1)
        // and alpha = 0 (default 0.01): ReduceSum then drops the axis and LeakyRelu maps negatives to 0, not to 0.01 x.
        var graph = new OnnxGraph
        {
            Name = "zeros",
            Initializers = { OnnxTensor.FromInt64s("axes", [1], [1L]) },
            Nodes =
            {
                new OnnxNode { Name = "sum", OpType = "ReduceSum", Inputs = { "x", "axes" }, Outputs = { "s" }, Attributes = { OnnxAttribute.Int("keepdims", 0) } },
                new OnnxNode { Name = "relu", OpType = "LeakyRelu", Inputs = { "s" }, Outputs = { "y" }, Attributes = { OnnxAttribute.Float("alpha", 0f) } },
            },
            Inputs = { new OnnxValueInfo { Name = "x", Shape = [OnnxDim.Fixed(2), OnnxDim.Fixed(3)] } },
            Outputs = { new OnnxValueInfo { Name = "y", Shape = [OnnxDim.Fixed(2)] } },
        };
        var model = new OnnxModel { Graph = graph, OpsetImports = { new("", 13) } };
        byte[] bytes = OnnxModelWriter.ToBytes(model);
        OnnxNode sum = OnnxModelReader.Read(bytes).Graph.Nodes[0];
        Assert.Equal((OnnxAttributeType.Int, 0L), (sum.Attributes[0].Type, sum.Attributes[0].I));

        float[] x = [1f, 2f, 3f, -4f, -5f, -6f]; // row sums 6 and -15
        using var session = new InferenceSession(bytes);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [2, 3]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input }, ["y"]);
        Assert.Equal([2L], results[0].GetTensorTypeAndShape().Shape);
        Assert.Equal([6f, 0f], results[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void OnnxRuntimeRejectsGraphWithMissingInitializer()
    {
        // The writer does not validate graphs; ONNX Runtime is the checker. This guards that a broken graph written
        // by us is reported by ORT rather than silently accepted (i.e. the bytes really are what ORT parses).
        OnnxModel model = OnnxTestGraphs.MatMulAdd(inFeatures: 3, outFeatures: 2);
        model.Graph.Initializers.RemoveAt(0);
        Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(OnnxModelWriter.ToBytes(model)));
    }
}
