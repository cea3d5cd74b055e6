using System.Text.Json;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>
/// Every llama2.c layout (v0 shared / untied, v1 shared / untied, v2 Q8_0) written from the bundled weights is
/// byte-identical to make_golden.py's port of export.py, and, imported, gives teacher-forced logits within 1e-4 of
/// llama2c.py (numpy float64, run.c semantics: adjacent-pair RoPE) on three id sequences. The bundled folder also
/// matches reference.py (HF semantics: rotate-half RoPE), which is what proves the q/k permutation.
/// </summary>
public sealed class Llama2cParityTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("v0.bin")]
    [InlineData("v0-untied.bin")]
    [InlineData("v1.bin")]
    [InlineData("v1-untied.bin")]
    [InlineData("v2.bin")]
    public void Written_file_matches_export_py_and_imports_to_llama2c_logits(string file)
    {
        using var dir = new TempDir();
        var path = Llama2cFixtures.Write(dir.Path, file);
        Assert.Equal(Llama2cFixtures.Golden.GetProperty("files").GetProperty(file).GetString(), Llama2cFixtures.Sha256(path));
        var output = Path.Combine(dir.Path, "hf");
        var result = Llama2cImporter.Import(path, Llama2cFixtures.Tokenizer, output);
        Assert.Equal(Llama2cFixtures.HeaderOf(file), result.Header);
        Assert.Equal(result.Header.SharedClassifier, result.Config.TieWordEmbeddings);
        Assert.Equal(260_032 + (result.Header.SharedClassifier ? 0 : 512 * 64), result.Parameters);
        using var model = LlamaForCausalLM.FromPretrained(output);
        var (compared, worst) = Compare(model, Llama2cFixtures.Golden.GetProperty("logits").GetProperty(file));
        Assert.True(worst <= Tolerance, $"{file}: max |logit - llama2c.py| = {worst:E2} > {Tolerance}");
        Assert.True(compared > 1400, $"{file}: only {compared} values compared");
    }

    [Fact]
    public void Bundled_folder_matches_hf_reference_logits()
    {
        using var model = LlamaForCausalLM.FromPretrained("tinystories-260k");
        var (compared, worst) = Compare(model, Llama2cFixtures.Golden.GetProperty("hf"));
        Assert.True(worst <= Tolerance, $"max |logit - reference.py| = {worst:E2}");
        Assert.True(compared > 1400);
    }

    [Fact]
    public void V2_reader_dequantizes_q8_groups_as_q_times_scale()
    {
        using var dir = new TempDir();
        var checkpoint = Llama2cCheckpoint.Read(Llama2cFixtures.Write(dir.Path, "v2.bin"));
        var original = Llama2cFixtures.BundledWeights();
        int groupSize = checkpoint.Header.GroupSize;
        long compared = 0;
        foreach (var (name, tensor) in checkpoint.Tensors)
        {
            var want = original[name];
            Assert.Equal(want.Length, tensor.Values.Length);
            bool quantized = !name.StartsWith("rms_", StringComparison.Ordinal);
            for (int g = 0; g < want.Length / groupSize; g++)
            {
                float max = 0;
                for (int i = 0; i < groupSize; i++) max = Math.Max(max, Math.Abs(want[g * groupSize + i]));
                for (int i = g * groupSize; i < (g + 1) * groupSize; i++, compared++)
                {
                    double error = Math.Abs(tensor.Values[i] - want[i]);
                    Assert.True(quantized ? error <= max / 127 / 2 * 1.0001 + 1e-12 : error == 0, $"{name}[{i}]: {tensor.Values[i]} vs {want[i]}");
                }
            }
        }
        Assert.Equal(260_032, compared);
    }

    [Fact]
    public void Original_stories260k_reads_to_the_same_weights_as_the_written_v0()
    {
        if (Llama2cShared.Checkpoint is not { } original) return;
        using var dir = new TempDir();
        var written = Llama2cCheckpoint.Read(Llama2cFixtures.Write(dir.Path, "v0.bin"));
        var read = Llama2cCheckpoint.Read(original);
        Assert.Equal(written.Header, read.Header);
        Assert.Equal(Llama2cFixtures.Golden.GetProperty("original_sha256").GetString(), Llama2cFixtures.Sha256(original));
        foreach (var (name, tensor) in read.Tensors) Assert.Equal(written.Tensors[name].Values, tensor.Values);
        Assert.Equal(11, read.Tensors.Count);
    }

    /// <summary>Teacher-forced logits of each golden sequence vs golden logsumexp and every stride-th logit.</summary>
    private static (int Compared, double Worst) Compare(LlamaForCausalLM model, JsonElement golden)
    {
        int stride = Llama2cFixtures.Golden.GetProperty("stride").GetInt32();
        var sequences = Llama2cFixtures.Golden.GetProperty("sequences").EnumerateArray().ToList();
        int compared = 0;
        double worst = 0;
        for (int s = 0; s < sequences.Count; s++)
        {
            var ids = sequences[s].EnumerateArray().Select(e => (long)e.GetInt32()).ToArray();
            float[] logits;
            using (var scope = NewDisposeScope())
            using (no_grad())
                logits = model.Forward(tensor(ids).unsqueeze(0))[0].data<float>().ToArray();   // (T, V)
            var want = golden[s];
            var lse = want.GetProperty("logsumexp").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var sampled = want.GetProperty("sampled").EnumerateArray().ToArray();
            Assert.Equal(ids.Length, lse.Length);
            int vocab = logits.Length / ids.Length;
            for (int t = 0; t < ids.Length; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab);
                double max = double.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double sum = 0;
                foreach (var v in row) sum += Math.Exp(v - max);
                worst = Math.Max(worst, Math.Abs(max + Math.Log(sum) - lse[t]));
                var values = sampled[t].EnumerateArray().Select(e => e.GetDouble()).ToArray();
                Assert.Equal((vocab + stride - 1) / stride, values.Length);
                for (int k = 0; k < values.Length; k++) worst = Math.Max(worst, Math.Abs(row[k * stride] - values[k]));
                compared += values.Length + 1;
            }
        }
        return (compared, worst);
    }
}
