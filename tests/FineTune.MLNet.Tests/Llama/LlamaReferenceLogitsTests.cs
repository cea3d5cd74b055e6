using FineTune.MLNet.Modules;
using Xunit;
using static TorchSharp.torch;
using static FineTune.MLNet.Tests.Llama.LlamaFixtures;

namespace FineTune.MLNet.Tests.Llama;

/// <summary>Float32 logits against the numpy float64 reference (Fixtures/llama/golden.json).</summary>
public class LlamaReferenceLogitsTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("llama", "llama")]                 // GQA 4/2, untied
    [InlineData("llama-tied", "llama-tied")]       // tied, rope_theta 500000, llama3 rope_scaling
    [InlineData("llama-tied", "llama-tied-long")]  // 40 positions: the scaled low frequencies matter
    [InlineData("qwen2", "qwen2")]                 // tied, q/k/v biases
    [InlineData("llama-bf16", "llama-bf16")]       // BF16 shards, upcast to float32
    public void LogitsMatchReference(string model, string key)
    {
        using var m = Load(model);
        var ids = Ids(key);
        var expected = Logits(key);
        for (int i = 0; i < ids.Length; i++)
        {
            using var scope = NewDisposeScope();
            var logits = m.Forward(Row(ids[i]));                    // (1, T, V)
            Assert.Equal(ScalarType.Float32, logits.dtype);
            double diff = MaxAbsDiff(logits[0], expected[i]);
            Assert.True(diff < Tolerance, $"{key} sequence {i}: max |diff| {diff:E2}");
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void LeftPaddedBatchMatchesReferenceAtRealPositions(string model)
    {
        using var m = Load(model);
        using var scope = NewDisposeScope();
        var key = model + "-leftpad";
        var ids = Batch(Ids(key));
        var mask = Batch(Mask(key));
        var logits = m.Forward(ids, mask, CausalMask.PositionIdsFromMask(mask));   // (B, T, V)
        var expected = Logits(key);
        var maskRows = Mask(key);
        double max = 0;
        int compared = 0;
        for (int b = 0; b < maskRows.Length; b++)
            for (int t = 0; t < maskRows[b].Length; t++)
            {
                if (maskRows[b][t] == 0) continue;
                max = Math.Max(max, MaxAbsDiff(logits[b, t].unsqueeze(0), [expected[b][t]]));
                compared++;
            }
        Assert.True(compared >= 10);
        Assert.True(max < Tolerance, $"{key}: max |diff| {max:E2}");
    }

    [Fact]
    public void Llama3ScalingChangesLogitsVersusUnscaledRope()
    {
        // Guard that the llama3 fixture is sensitive to the scaling: dropping rope_scaling must move the logits.
        var dir = CopyToTemp("llama-tied");
        var path = Path.Combine(dir, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["rope_scaling"] = null;
        File.WriteAllText(path, json.ToJsonString());
        using var m = Models.Llama.LlamaForCausalLM.FromPretrained(dir);
        using var scope = NewDisposeScope();
        var logits = m.Forward(Row(Ids("llama-tied-long")[0]));
        Assert.True(MaxAbsDiff(logits[0], Logits("llama-tied-long")[0]) > 1e-3);
    }
}
