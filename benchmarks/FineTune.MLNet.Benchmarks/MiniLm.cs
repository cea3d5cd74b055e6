using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tokenization;

namespace FineTune.MLNet.Benchmarks;

/// <summary>The bundled all-MiniLM-L6-v2 as a 3-class classifier, with its pretrained encoder weights loaded.</summary>
internal static class MiniLm
{
    public const int Labels = 3;

    /// <summary>LoRA as the benchmark runs it: r = 8 on query and value (PEFT's default targets for BERT).</summary>
    public static readonly LoraSettings LoraR8 = new() { Rank = 8, Alpha = 16, Dropout = 0.1, TargetModules = ["query", "value"] };   // dropout 0.1: as every earlier table and the peer script

    public static BertForSequenceClassification Create(PretrainedEncoder pretrained, LoraSettings? lora)
    {
        var model = new BertForSequenceClassification(pretrained.Config with { NumLabels = Labels }, lora);
        StateDictLoader.LoadInto(model, pretrained.Weights, strict: false);
        return model;
    }

    public static WordPieceTokenizer Tokenizer(PretrainedEncoder pretrained)
    {
        using var vocab = new MemoryStream(pretrained.Vocab);
        return WordPieceTokenizer.FromVocabStream(vocab, pretrained.TokenizerOptions);
    }
}
