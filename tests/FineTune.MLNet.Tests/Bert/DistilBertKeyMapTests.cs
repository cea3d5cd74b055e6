using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Models.Bert;
using Xunit;

namespace FineTune.MLNet.Tests.Bert;

/// <summary>Every key of a Hugging Face DistilBertForSequenceClassification checkpoint lands on a parameter of the BERT structure.</summary>
public sealed class DistilBertKeyMapTests
{
    /// <summary>The state-dict keys transformers writes for DistilBertForSequenceClassification (2 layers shown).</summary>
    private static IEnumerable<string> HfDistilBertKeys(int layers)
    {
        yield return "distilbert.embeddings.word_embeddings.weight";
        yield return "distilbert.embeddings.position_embeddings.weight";
        yield return "distilbert.embeddings.LayerNorm.weight";
        yield return "distilbert.embeddings.LayerNorm.bias";
        for (var i = 0; i < layers; i++)
        {
            foreach (var lin in new[] { "q_lin", "k_lin", "v_lin", "out_lin" })
                foreach (var p in new[] { "weight", "bias" }) yield return $"distilbert.transformer.layer.{i}.attention.{lin}.{p}";
            foreach (var part in new[] { "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm" })
                foreach (var p in new[] { "weight", "bias" }) yield return $"distilbert.transformer.layer.{i}.{part}.{p}";
        }
        foreach (var p in new[] { "weight", "bias" }) { yield return $"pre_classifier.{p}"; yield return $"classifier.{p}"; }
    }

    [Fact]
    public void MapsEveryDistilBertKeyOntoExactlyTheBertParameters()
    {
        var config = new BertConfig
        {
            ModelType = "distilbert", VocabSize = 50, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 32, MaxPositionEmbeddings = 20, TypeVocabSize = 0, NumLabels = 2,
        };
        using var model = new BertForSequenceClassification(config);
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet();
        var mapped = HfDistilBertKeys(2).Select(DistilBertKeyMap.Map).ToList();
        Assert.Equal(mapped.Count, mapped.Distinct().Count());
        Assert.DoesNotContain(mapped, k => !parameters.Contains(k));
        Assert.DoesNotContain(parameters, p => !mapped.Contains(p));
        Assert.Equal("bert.encoder.layer.1.attention.output.LayerNorm.weight", DistilBertKeyMap.Map("distilbert.transformer.layer.1.sa_layer_norm.weight"));
        Assert.Equal("bert.pooler.dense.bias", DistilBertKeyMap.Map("pre_classifier.bias"));
        Assert.Equal(HfDistilBertKeys(2).Order(), mapped.Select(DistilBertKeyMap.ToDistilBert).Order());
    }

    [Fact]
    public void FineTunedDistilBertSavesWithHfKeysAndReloadsIdentically()
    {
        var config = new BertConfig
        {
            ModelType = "distilbert", VocabSize = 40, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32,
            MaxPositionEmbeddings = 20, TypeVocabSize = 0, NumLabels = 2, Id2Label = ["no", "yes"], HiddenAct = "gelu",
        };
        var vocab = string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(Enumerable.Range(0, 30).Select(i => $"w{i}")));
        TorchSharp.torch.random.manual_seed(3);
        var model = new BertForSequenceClassification(config);
        using var classifier = new FineTune.MLNet.Classification.FineTunedTextClassifier(model, System.Text.Encoding.UTF8.GetBytes(vocab),
            FineTune.MLNet.Tokenization.WordPieceTokenizerOptions.Uncased, ["no", "yes"], 16, TorchSharp.torch.CPU);
        using var dirTemp = new TempDir("distilbert");
        var dir = Path.Combine(dirTemp.Path, "distilbert");
        classifier.Save(dir);
        var keys = SafeTensorsFile.ReadHeader(Path.Combine(dir, "model.safetensors")).Keys.ToHashSet();
        Assert.Equal(HfDistilBertKeys(2).ToHashSet(), keys);
        using var reloaded = FineTune.MLNet.Classification.FineTunedTextClassifier.Load(dir);
        var a = classifier.PredictProbabilities(["w1 w2 w3", "w7"]);
        var b = reloaded.PredictProbabilities(["w1 w2 w3", "w7"]);
        // Same float32 weights through the same kernels; only buffer alignment can change BLAS blocking (a few ulps).
        for (var i = 0; i < 2; i++) AssertAllClose(a[i], b[i], atol: 1e-6, what: $"probabilities of text {i}");
    }
}
