using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Tests.Checkpoints;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Proto = global::Onnx;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>
/// ONNX external data: large initializers in <c>model.onnx.data</c> beside the model. ONNX Runtime loads what the writer
/// wrote and computes exactly what the single-file model computes; the reader reads it back; a hostile location,
/// range or length is refused naming the tensor and the model file, before the payload is allocated.
/// </summary>
public sealed class OnnxExternalDataTests
{
    [Fact]
    public void Written_external_data_reads_back_and_runs_in_onnx_runtime_like_the_single_file_model()
    {
        using var dir = new TempDir();
        OnnxModel model = OnnxTestGraphs.MatMulAdd(inFeatures: 64, outFeatures: 32); // W: 8192 bytes (external), b: 128 (inline)
        string path = dir.File("model.onnx");
        OnnxModelWriter.WriteWithExternalData(model, path);

        Assert.Equal(8192, new FileInfo(path + ".data").Length);
        Assert.True(new FileInfo(path).Length < 1024, $"model.onnx is {new FileInfo(path).Length} bytes; W should be outside it");
        OnnxModel back = OnnxModelReader.Read(path);
        Assert.Equal(["W", "b"], back.Graph.Initializers.Select(t => t.Name));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(model.Graph.Initializers[i].Dims, back.Graph.Initializers[i].Dims);
            Assert.Equal(model.Graph.Initializers[i].ToFloatArray(), back.Graph.Initializers[i].ToFloatArray());
        }

        float[] x = [.. Enumerable.Range(0, 2 * 64).Select(i => MathF.Sin(i))];
        float[] fromExternal = Run(new InferenceSession(path), x);
        float[] fromSingleFile = Run(new InferenceSession(OnnxModelWriter.ToBytes(model)), x);
        Assert.Equal(2 * 32, fromExternal.Length);
        Assert.Equal(fromSingleFile, fromExternal); // same weights, same kernels: bit-equal

        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(File.ReadAllBytes(path), "model.onnx"));
        Assert.Contains("'W' is stored as external data", e.Message);
        Assert.Contains("read the model from its file path", e.Message);
    }

    [Theory]
    [InlineData("location", "../model.onnx.data", "must be a relative path inside the model's folder")]
    [InlineData("location", "/etc/hostname", "must be a relative path inside the model's folder")]
    [InlineData("location", "missing.data", "external data file 'missing.data' not found")]
    [InlineData("offset", "4096", "runs past the end of 'model.onnx.data' (8192 bytes)")]
    [InlineData("offset", "9223372036854775807", "runs past the end")]
    [InlineData("offset", "-1", "external data 'offset' is '-1', expected a non-negative integer")]
    [InlineData("length", "4096", "external data length 4096 does not match the 8192 bytes")]
    public void Hostile_external_data_entries_are_refused_naming_tensor_and_file(string key, string value, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("model.onnx");
        OnnxModelWriter.WriteWithExternalData(OnnxTestGraphs.MatMulAdd(inFeatures: 64, outFeatures: 32), path);
        var proto = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Proto.StringStringEntryProto entry = proto.Graph.Initializer.Single(t => t.Name == "W").ExternalData.Single(kv => kv.Key == key);
        entry.Value = value;
        File.WriteAllBytes(path, proto.ToByteArray());

        var e = Assert.Throws<OnnxFormatException>(() => OnnxModelReader.Read(path));
        Assert.Contains("'model.onnx'", e.Message);
        Assert.Contains("Tensor 'W'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    private static float[] Run(InferenceSession session, float[] x)
    {
        using (session)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(x, [2, 64]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input }, ["y"]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }
    }
}
