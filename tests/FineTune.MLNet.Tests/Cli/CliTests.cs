using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.TestSupport;
using System.Text.Json;
using FineTune.MLNet.Export.Onnx;
using Xunit;
using FineTune.MLNet.Tests.Estimators;

namespace FineTune.MLNet.Tests.Cli;

public sealed class CliTests
{
    private static string WriteCsv(IEnumerable<TinyClassifierData.Row> rows, string name, bool multiline = false)
    {
        var dir = TestTempRoot.NewFolder("cli");
        var path = Path.Combine(dir, name);
        var lines = new List<string> { "id,review,sentiment" };
        var i = 0;
        foreach (var r in rows)
        {
            var text = multiline && i % 5 == 0 ? r.Text.Replace(" ", "\n", StringComparison.Ordinal) + ", \"quoted\"" : r.Text;
            lines.Add($"{i++},\"{text.Replace("\"", "\"\"")}\",{r.Label}");
        }
        File.WriteAllText(path, string.Join("\r\n", lines) + "\r\n");
        return path;
    }

    [Fact]
    public void ClassifyWritesMetricsAndModel()
    {
        var model = TinyClassifierData.ModelFolder();
        var train = WriteCsv(TinyClassifierData.Rows(90, 21), "train.csv", multiline: true);
        var test = WriteCsv(TinyClassifierData.Rows(30, 22), "test.csv");
        var output = Path.Combine(TestTempRoot.NewFolder("cli-out"), "out");
        var (code, stdout, stderr) = CliRunner.Run("classify", "--train", train, "--test", test, "--text-column", "review", "--label-column", "sentiment",
            "--model", model, "--epochs", "8", "--lr", "5e-3", "--batch-size", "8", "--max-length", "32", "--seed", "3", "--output", output, "--export-onnx");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("step", stderr);     // the progress bar
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var root = metrics.RootElement;
        foreach (var key in new[] { "accuracy", "macro_f1", "zero_shot_accuracy", "zero_shot_macro_f1", "train_seconds", "train_tokens_per_second" })
        {
            Assert.True(root.TryGetProperty(key, out var v), key);
            Assert.True(v.GetDouble() >= 0, key);
        }
        Assert.True(root.GetProperty("accuracy").GetDouble() >= 0.7, root.GetProperty("accuracy").ToString());
        Assert.True(File.Exists(Path.Combine(output, "model", "pipeline.json")));

        // The exported ONNX serves in ONNX Runtime: class probabilities for a padded batch.
        using var onnx = new OnnxReferenceRunner(Path.Combine(output, "model.onnx"));
        var outputs = onnx.Run([2, 8, 9, 3, 2, 10, 3, 0], [1, 1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0], 2, 4);
        var probabilities = outputs["probabilities"];
        Assert.Equal([2L, 3L], probabilities.Shape);
        AssertClose(1.0, probabilities.Data.Take(3).Sum(), atol: 1e-5, what: "sum of a row's float32 probabilities");
    }

    [Fact]
    public void ClassifyNamesAMissingColumn()
    {
        var train = WriteCsv(TinyClassifierData.Rows(9, 23), "train.csv");
        var (code, _, stderr) = CliRunner.Run("classify", "--train", train, "--test", train, "--text-column", "text", "--label-column", "sentiment",
            "--model", TinyClassifierData.ModelFolder(), "--output", Path.Combine(TestTempRoot.Path, "never-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(2, code);
        Assert.Contains("'text'", stderr);
        Assert.Contains("review", stderr);   // lists the available columns
    }

    [Fact]
    public void EncodePrintsMiniLmHiddenStatesMatchingOnnxRuntime()
    {
        var (code, stdout, stderr) = CliRunner.Run("encode", "--model", "minilm", "--text", "hello world");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal([101L, 7592, 2088, 102], doc.RootElement.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt64()));
        var rows = doc.RootElement.GetProperty("last_hidden_state").EnumerateArray().ToArray();
        Assert.Equal(4, rows.Length);
        Assert.Equal(384, rows[0].GetArrayLength());
        // h[0, 0, 0..3] of ONNX Runtime on the original all-MiniLM-L6-v2 graph for the same ids.
        float[] onnxRuntime = [0.17644452f, 0.039366297f, 0.07790203f, 0.25854188f];
        // README's MiniLM parity bound vs ONNX Runtime (six fp32 layers, different kernels): 1e-4.
        AssertAllClose(onnxRuntime, rows[0].EnumerateArray().Take(4).Select(v => v.GetSingle()).ToArray(), atol: 1e-4, what: "h[0, 0, 0..3]");
    }
}
