using FineTune.MLNet.Tests.TestSupport;
namespace FineTune.MLNet.Tests.Tokenization.HuggingFace;

/// <summary>Paths of the committed tokenizer fixtures (see Fixtures/hf-tokenizer/README.md).</summary>
internal static class HfFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "hf-tokenizer");

    /// <summary>make_tokenizer.py --chat-template chatml: GPT-2 byte-level BPE, 48 merges, ChatML specials.</summary>
    public static string ByteLevelChatMl => Path.Combine(Root, "byte-level-chatml");

    /// <summary>Same vocabulary, Llama-3 style: Split(regex) + ByteLevel, ignore_merges, BOS from TemplateProcessing, &lt;tool&gt; lstrip.</summary>
    public static string ByteLevelSplit => Path.Combine(Root, "byte-level-split");

    /// <summary>Hand-written Llama-2 style BPE: Prepend/Replace "▁" normalizer, byte_fallback, "a b" merges.</summary>
    public static string SpLegacy => Path.Combine(Root, "sp-legacy");

    /// <summary>Same vocabulary, Metaspace(prepend_scheme first) pre-tokenizer, [a, b] merges.</summary>
    public static string SpMetaspace => Path.Combine(Root, "sp-metaspace");

    /// <summary>Only a SentencePiece tokenizer.model with the sp-legacy vocabulary.</summary>
    public static string SpModel => Path.Combine(Root, "sp-model");

    /// <summary>Ids and decodes produced by the Hugging Face tokenizers Rust library for the four tokenizer.json fixtures.</summary>
    public static string Golden => Path.Combine(Root, "golden-hf-tokenizers.json");

    /// <summary>Copies a fixture folder to a fresh temp folder the test may modify.</summary>
    public static string CopyToTemp(string fixture)
    {
        string dir = TestTempRoot.NewFolder("hftok");
        foreach (var file in Directory.GetFiles(fixture)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }
}
