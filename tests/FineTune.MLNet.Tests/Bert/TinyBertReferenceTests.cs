using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Bert;

/// <summary>
/// BertForSequenceClassification loading a Hugging Face checkpoint (written by ../shared/reference/make_tiny.py) and
/// matching the numpy reference's logits, padding included.
/// </summary>
public sealed class TinyBertReferenceTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-bert");

    [Fact]
    public void LogitsMatchNumpyReference()
    {
        var config = BertConfig.FromJsonFile(Path.Combine(Dir, "config.json"));
        using var model = new BertForSequenceClassification(config);
        var weights = PretrainedEncoder.NormalizeKeys(HfCheckpoint.LoadFolder(Dir), config);
        StateDictLoader.LoadInto(model, weights, strict: true);
        model.eval();

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "reference_logits.json")));
        long[][] Rows(string name) => doc.RootElement.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        var ids = Rows("input_ids");
        var mask = Rows("attention_mask");
        var expected = doc.RootElement.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long b = ids.Length, t = ids[0].Length;
        var logits = model.forward(tensor(ids.SelectMany(r => r).ToArray(), [b, t]), tensor(mask.SelectMany(r => r).ToArray(), [b, t]), null)
            .to(ScalarType.Float64).data<double>().ToArray();
        var classes = expected[0].Length;
        for (var i = 0; i < b; i++)
        {
            for (var c = 0; c < classes; c++)
            {
                Assert.True(Math.Abs(expected[i][c] - logits[i * classes + c]) < 1e-4, $"row {i} class {c}: reference {expected[i][c]}, ours {logits[i * classes + c]}");
            }
        }
    }

    [Fact]
    public void StrictLoadingNamesMissingKeys()
    {
        var config = BertConfig.FromJsonFile(Path.Combine(Dir, "config.json"));
        using var model = new BertForSequenceClassification(config);
        var weights = PretrainedEncoder.NormalizeKeys(HfCheckpoint.LoadFolder(Dir), config);
        weights.Remove("bert.encoder.layer.0.attention.self.query.weight");
        var e = Assert.ThrowsAny<Exception>(() => StateDictLoader.LoadInto(model, weights, strict: true));
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", e.Message);
    }
}
