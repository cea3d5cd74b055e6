using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>One way to score a tokenized classifier batch: class probabilities, row-major (B, C).</summary>
internal interface IClassifierEngine : IDisposable
{
    string Name { get; }

    float[] Probabilities(EncodedBatch batch);
}

/// <summary>The TorchSharp model itself, eval mode, under <c>no_grad</c> (what <c>FineTunedTextClassifier</c> runs).</summary>
internal sealed class TorchSharpClassifierEngine(BertForSequenceClassification model) : IClassifierEngine
{
    public string Name => "TorchSharp eager";

    public float[] Probabilities(EncodedBatch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (ids, mask, types) = batch.ToTensors();                                  // (B, T) each
        var probabilities = nn.functional.softmax(model.forward(ids, mask, types), -1);   // (B, C)
        return probabilities.data<float>().ToArray();
    }

    public void Dispose() { }
}

/// <summary>The exported classifier ONNX (float32, or int8 from <see cref="OnnxDynamicQuantizer"/>) in an ONNX Runtime CPU session.</summary>
internal sealed class OnnxRuntimeClassifierEngine(string name, byte[] onnx, int threads) : IClassifierEngine
{
    private readonly OnnxReferenceRunner _runner = new(onnx, new OnnxRunnerOptions { IntraOpThreads = threads });

    public string Name => name;

    public float[] Probabilities(EncodedBatch batch) =>
        _runner.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength,
            [BertOnnxExporter.ProbabilitiesName])[BertOnnxExporter.ProbabilitiesName].Data;

    public void Dispose() => _runner.Dispose();

    /// <summary>The float32 export and its int8 dynamic quantization, as bytes (file sizes reported by the caller).</summary>
    public static (byte[] Fp32, byte[] Int8) Export(BertForSequenceClassification model)
    {
        var fp32 = BertOnnxExporter.ExportToBytes(model);
        var dir = Directory.CreateTempSubdirectory("finetune-serving-");
        try
        {
            string input = Path.Combine(dir.FullName, "fp32.onnx"), output = Path.Combine(dir.FullName, "int8.onnx");
            File.WriteAllBytes(input, fp32);
            OnnxDynamicQuantizer.QuantizeFile(input, output);
            return (fp32, File.ReadAllBytes(output));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
