using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tests.Onnx;
using FineTune.MLNet.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Bert;

/// <summary>
/// The TorchSharp BERT encoder with the imported all-MiniLM-L6-v2 weights against ONNX Runtime running the original
/// ONNX graph (an independent implementation) on the same inputs.
/// </summary>
public sealed class MiniLmOnnxParityTests : IClassFixture<MiniLmOnnxParityTests.Models>
{
    public sealed class Models : IDisposable
    {
        public Models()
        {
            using var pretrained = PretrainedEncoder.LoadMiniLm();
            Encoder = new BertModel(pretrained.Config);
            var weights = pretrained.Weights.ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
            var report = StateDictLoader.LoadInto(Encoder, weights, strict: false);
            Assert.Empty(report.Unexpected);
            Assert.Empty(report.Missing);          // the MiniLM export carries the pooler too
            Encoder.eval();
            Tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(pretrained.Vocab), pretrained.TokenizerOptions);
            Onnx = new OnnxReferenceRunner(EmbeddedMiniLm.Bytes);
        }

        public BertModel Encoder { get; }
        public WordPieceTokenizer Tokenizer { get; }
        public OnnxReferenceRunner Onnx { get; }

        public void Dispose()
        {
            Encoder.Dispose();
            Onnx.Dispose();
        }
    }

    private readonly Models m;

    public MiniLmOnnxParityTests(Models models) => m = models;

    [Theory]
    [InlineData(new[] { "hello world" }, null)]
    [InlineData(new[] { "The battery died after two days. Returning it.", "ok", "Works as described, nothing special, but the price is fair for what you get." }, null)]
    [InlineData(new[] { "Is the charger included?", "Great sound" }, new[] { "Yes, a USB-C charger is in the box.", "but the bass is weak" })]
    public void LastHiddenStateMatchesOnnxRuntime(string[] texts, string[]? pairs)
    {
        var batch = m.Tokenizer.EncodeBatch(texts, pairs, 128);
        var expected = m.Onnx.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength)["last_hidden_state"];

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (ids, mask, types) = batch.ToTensors();
        var actual = m.Encoder.forward(ids, mask, types).data<float>().ToArray();    // (B, T, 384)

        Assert.Equal(expected.Data.Length, actual.Length);
        const int h = 384;
        double maxDiff = 0;
        var compared = 0;
        for (var b = 0; b < batch.BatchSize; b++)
        {
            for (var t = 0; t < batch.SequenceLength; t++)
            {
                if (batch.AttentionMask[b * batch.SequenceLength + t] == 0) continue;   // padded query rows differ by design (-10000 vs min)
                for (var i = 0; i < h; i++)
                {
                    var k = (b * batch.SequenceLength + t) * h + i;
                    maxDiff = Math.Max(maxDiff, Math.Abs(expected.Data[k] - actual[k]));
                    compared++;
                }
            }
        }
        Assert.True(compared > 0);
        Assert.True(maxDiff <= 1e-4, $"max |torch - onnxruntime| = {maxDiff:E3} over {compared} values");
    }

    [Fact]
    public void PaddingDoesNotChangeRealTokens()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var alone = m.Tokenizer.EncodeBatch(["short one"], null, 64).ToTensors();
        var padded = m.Tokenizer.EncodeBatch(["short one", "a much longer review that forces padding onto the first row"], null, 64).ToTensors();
        var a = m.Encoder.forward(alone.InputIds, alone.AttentionMask, alone.TokenTypeIds);          // (1, 4, H)
        var p = m.Encoder.forward(padded.InputIds, padded.AttentionMask, padded.TokenTypeIds);       // (2, T, H)
        var diff = (p[0].narrow(0, 0, a.shape[1]) - a[0]).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"padding changed real positions by {diff}");
    }
}
