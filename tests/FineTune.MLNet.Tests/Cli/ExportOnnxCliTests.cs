using FineTune.MLNet.Export.Onnx;
using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Tests.Llama;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace FineTune.MLNet.Tests.Cli;

public sealed class ExportOnnxCliTests
{
    private static string TempFile(string name) =>
        Path.Combine(TestTempRoot.NewFolder("export"), name);

    [Fact]
    public void ExportsLlamaWithMergedAdapterMatchingTheReference()
    {
        var output = TempFile("llama-lora.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--model", LlamaFixtures.Dir("llama"), "--adapter", LlamaFixtures.Dir("lora"), "--output", output);
        Assert.True(code == 0, stdout + stderr);

        var ids = LlamaFixtures.Ids("llama+lora");
        var expected = LlamaFixtures.Logits("llama+lora");
        using var session = new InferenceSession(output);
        for (var s = 0; s < ids.Length; s++)
        {
            var t = ids[s].Length;
            long[] dims = [1, t];
            using var input = OrtValue.CreateTensorValueFromMemory(ids[s], dims);
            using var mask = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, t).ToArray(), dims);
            using var positions = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, t).Select(i => (long)i).ToArray(), dims);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["input_ids"] = input, ["attention_mask"] = mask, ["position_ids"] = positions }, ["logits"]);
            var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
            var vocab = expected[s][0].Length;
            double max = 0;
            for (var p = 0; p < t; p++)
                for (var v = 0; v < vocab; v++) max = Math.Max(max, Math.Abs(logits[p * vocab + v] - expected[s][p][v]));
            Assert.True(max < 1e-4, $"sequence {s}: max |onnx − reference merged LoRA| = {max}");
        }
    }

    [Fact]
    public void ExportsAClassifierFolderThatOnnxRuntimeServes()
    {
        var folder = FineTune.MLNet.Tests.Estimators.TinyClassifierData.ModelFolder();   // an HF BertForSequenceClassification folder
        var output = TempFile("classifier.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--model", folder, "--output", output);
        Assert.True(code == 0, stdout + stderr);
        using var classifier = FineTune.MLNet.Classification.FineTunedTextClassifier.Load(folder);
        var expected = classifier.PredictProbabilities(["good product", "awful"]);
        using var onnx = new OnnxReferenceRunner(output);
        var batch = classifier.Tokenizer.EncodeBatch(["good product", "awful"], null, 16);
        var probabilities = onnx.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength)["probabilities"].Data;
        for (var i = 0; i < 2; i++)
            AssertAllClose(expected[i], probabilities.Skip(i * 3).Take(3).ToArray(), atol: 1e-4, what: $"ONNX probabilities of text {i}");   // README's export parity bound
    }

    [Fact]
    public void KvCacheFlagAddsPastAndPresentTensors()
    {
        var output = TempFile("llama-kv.onnx");
        var (code, stdout, stderr) = CliRunner.Run("export-onnx", "--model", LlamaFixtures.Dir("qwen2"), "--output", output, "--kv-cache");
        Assert.True(code == 0, stdout + stderr);
        using var session = new InferenceSession(output);
        Assert.Contains("past_key_values.0.key", session.InputMetadata.Keys);
        Assert.Contains("present.0.value", session.OutputMetadata.Keys);
        var (bad, _, err) = CliRunner.Run("export-onnx", "--model", FineTune.MLNet.Tests.Estimators.TinyClassifierData.ModelFolder(), "--output", TempFile("c.onnx"), "--kv-cache");
        Assert.Equal(2, bad);
        Assert.Contains("--kv-cache", err);
    }

    [Fact]
    public void UnknownModelTypeExitsTwoNamingIt()
    {
        var dir = Path.GetDirectoryName(TempFile("x"))!;
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "gpt2"}""");
        var (code, _, stderr) = CliRunner.Run("export-onnx", "--model", dir, "--output", Path.Combine(dir, "m.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("gpt2", stderr);
    }
}
