using System.Text.Json;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using Xunit;

namespace FineTune.MLNet.Tests.Checkpoints;

public class HfEncoderConfigTests
{
    private const string MiniLm = """
        {"_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
         "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false, "hidden_act": "gelu",
         "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
         "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
         "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute",
         "transformers_version": "4.8.2", "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}
        """;

    private const string DistilBertSst2 = """
        {"activation": "gelu", "architectures": ["DistilBertForSequenceClassification"], "attention_dropout": 0.1,
         "dim": 768, "dropout": 0.1, "finetuning_task": "sst-2", "hidden_dim": 3072,
         "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "initializer_range": 0.02,
         "label2id": {"NEGATIVE": 0, "POSITIVE": 1}, "max_position_embeddings": 512, "model_type": "distilbert",
         "n_heads": 12, "n_layers": 6, "output_past": true, "pad_token_id": 0, "qa_dropout": 0.1,
         "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": false, "tie_weights_": true, "vocab_size": 30522}
        """;

    [Fact]
    public void ReadsTheTinyBertFixtureWrittenByTheReference()
    {
        var config = BertConfig.FromJsonFile(CheckpointTestFiles.Fixture("tiny-bert", "config.json"));
        Assert.Equal("bert", config.ModelType);
        Assert.Equal(512, config.VocabSize);
        Assert.Equal(64, config.HiddenSize);
        Assert.Equal(2, config.NumHiddenLayers);
        Assert.Equal(4, config.NumAttentionHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(128, config.IntermediateSize);
        Assert.Equal(128, config.MaxPositionEmbeddings);
        Assert.Equal(2, config.TypeVocabSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal("gelu", config.HiddenAct);
        Assert.Equal(3, config.NumLabels);
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], config.Id2Label!);
        Assert.Null(config.ClassifierDropout);
    }

    [Fact]
    public void ReadsMiniLmAsBertWithDefaultLabels()
    {
        using var dir = new TempDir();
        var config = Read(dir, MiniLm);
        Assert.Equal(384, config.HiddenSize);
        Assert.Equal(6, config.NumHiddenLayers);
        Assert.Equal(1536, config.IntermediateSize);
        Assert.Equal(2, config.NumLabels);
        Assert.Null(config.Id2Label);
        Assert.Equal(["LABEL_0", "LABEL_1"], config.LabelNames());
    }

    [Fact]
    public void MapsDistilBertKeys()
    {
        using var dir = new TempDir();
        var config = Read(dir, DistilBertSst2);
        Assert.Equal("distilbert", config.ModelType);
        Assert.Equal(768, config.HiddenSize);
        Assert.Equal(6, config.NumHiddenLayers);
        Assert.Equal(12, config.NumAttentionHeads);
        Assert.Equal(3072, config.IntermediateSize);
        Assert.Equal("gelu", config.HiddenAct);
        Assert.Equal(0, config.TypeVocabSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal(0.2, config.ClassifierDropout);
        Assert.Equal(["NEGATIVE", "POSITIVE"], config.Id2Label!);
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("distilbert")]
    public void ToJsonRoundTrips(string modelType)
    {
        using var dir = new TempDir();
        var config = new BertConfig
        {
            ModelType = modelType, VocabSize = 100, HiddenSize = 32, NumHiddenLayers = 3, NumAttentionHeads = 4,
            IntermediateSize = 64, HiddenAct = "gelu_new", MaxPositionEmbeddings = 40,
            TypeVocabSize = modelType == "bert" ? 3 : 0, LayerNormEps = modelType == "bert" ? 1e-5 : 1e-12, PadTokenId = 1,
            NumLabels = 3, Id2Label = ["neg", "neu", "pos"], HiddenDropoutProb = 0.05, AttentionProbsDropoutProb = 0.15,
            ClassifierDropout = 0.3,
        };
        var path = dir.File("config.json");
        File.WriteAllText(path, config.ToJson());
        var back = BertConfig.FromJsonFile(path);
        Assert.Equal(config with { Id2Label = null }, back with { Id2Label = null });
        Assert.Equal(config.Id2Label, back.Id2Label!);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        Assert.Equal(modelType, root.GetProperty("model_type").GetString());
        var architecture = modelType == "bert" ? "BertForSequenceClassification" : "DistilBertForSequenceClassification";
        Assert.Equal(architecture, root.GetProperty("architectures")[0].GetString());
        Assert.Equal("pos", root.GetProperty("id2label").GetProperty("2").GetString());
        Assert.Equal(1, root.GetProperty("label2id").GetProperty("neu").GetInt32());
        Assert.Equal(32, root.GetProperty(modelType == "bert" ? "hidden_size" : "dim").GetInt32());
        Assert.False(root.TryGetProperty("num_labels", out _));
        var keys = root.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys); // sorted, like transformers' save_pretrained
    }

    [Fact]
    public void ToJsonWritesDefaultLabelNamesWhenNoneAreGiven()
    {
        using var json = JsonDocument.Parse(new BertConfig { NumLabels = 2 }.ToJson());
        Assert.Equal("LABEL_1", json.RootElement.GetProperty("id2label").GetProperty("1").GetString());
        Assert.Equal("BertForSequenceClassification", json.RootElement.GetProperty("architectures")[0].GetString());
        Assert.True(json.RootElement.TryGetProperty("classifier_dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Null);
    }

    [Theory]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 4}""", "required field 'hidden_size' is missing")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": "8", "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 4}""", "field 'hidden_size' must be an integer, got String \"8\"")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8.5, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 4}""", "field 'hidden_size' must be an integer")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 3, "intermediate_size": 4}""", "field 'hidden_size' is invalid: BertConfig.HiddenSize (8) must be divisible by NumAttentionHeads (3)")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "hidden_act": "swish"}""", "field 'hidden_act' is invalid")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "layer_norm_eps": 0}""", "field 'layer_norm_eps' is invalid")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "layer_norm_eps": "tiny"}""", "field 'layer_norm_eps' must be a number")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "id2label": {"0": "a", "2": "c"}}""", "field 'id2label' must have ids 0..n-1")]
    [InlineData("""{"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4, "id2label": {"0": "a"}, "num_labels": 2}""", "'num_labels' is 2 but 'id2label' has 1 entries")]
    [InlineData("""{"model_type": "distilbert", "vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 3, "hidden_dim": 4}""", "field 'dim' is invalid")]
    [InlineData("""{"model_type": "distilbert", "vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 2}""", "required field 'hidden_dim' is missing")]
    [InlineData("""{"vocab_size": 10}""", "field 'model_type' is missing")]
    [InlineData("""{"model_type": "bert", """, "is not valid JSON")]
    public void BadConfigsNameTheFileAndTheField(string json, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJsonFile(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("roberta")]
    public void UnsupportedModelTypeIsRefused(string modelType)
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, $$"""{"model_type": "{{modelType}}", "vocab_size": 10}""");
        var e = Assert.Throws<NotSupportedException>(() => BertConfig.FromJsonFile(path));
        Assert.Contains(path, e.Message);
        Assert.Contains($"model_type '{modelType}' is not supported", e.Message);
    }

    [Fact]
    public void RelativePositionEmbeddingsAreRefused()
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, MiniLm.Replace("\"absolute\"", "\"relative_key\""));
        var e = Assert.Throws<NotSupportedException>(() => BertConfig.FromJsonFile(path));
        Assert.Contains("position_embedding_type", e.Message);
    }

    [Fact]
    public void DefaultsAreBertBaseAndValid()
    {
        var config = new BertConfig();
        config.Validate();
        Assert.Equal((30522, 768, 12, 12, 3072), (config.VocabSize, config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize));
    }

    [Theory]
    [InlineData(nameof(BertConfig.NumAttentionHeads))]
    [InlineData(nameof(BertConfig.LayerNormEps))]
    [InlineData(nameof(BertConfig.PadTokenId))]
    [InlineData(nameof(BertConfig.TypeVocabSize))]
    [InlineData(nameof(BertConfig.Id2Label))]
    [InlineData(nameof(BertConfig.ClassifierDropout))]
    [InlineData(nameof(BertConfig.ModelType))]
    public void ValidateNamesTheBadField(string field)
    {
        var config = field switch
        {
            nameof(BertConfig.NumAttentionHeads) => new BertConfig { NumAttentionHeads = 0 },
            nameof(BertConfig.LayerNormEps) => new BertConfig { LayerNormEps = double.NaN },
            nameof(BertConfig.PadTokenId) => new BertConfig { VocabSize = 10, PadTokenId = 10 },
            nameof(BertConfig.TypeVocabSize) => new BertConfig { ModelType = "distilbert" },
            nameof(BertConfig.Id2Label) => new BertConfig { NumLabels = 3, Id2Label = ["a", "b"] },
            nameof(BertConfig.ClassifierDropout) => new BertConfig { ClassifierDropout = 1.0 },
            _ => new BertConfig { ModelType = "gpt2" },
        };
        var e = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Equal(field, e.ParamName);
        Assert.Contains($"BertConfig.{field}", e.Message);
    }

    private static BertConfig Read(TempDir dir, string json)
    {
        var path = dir.File("config.json");
        File.WriteAllText(path, json);
        return BertConfig.FromJsonFile(path);
    }
}
