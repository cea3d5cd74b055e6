namespace FineTune.MLNet.Import.Gguf;

/// <summary>
/// The byte-level BPE pre-tokenizers that have a name in llama.cpp (<c>tokenizer.ggml.pre</c>) and a
/// <c>tokenizer.json</c> form, as <c>convert_hf_to_gguf.py</c> pairs them: <c>gpt-2</c> is the ByteLevel
/// pre-tokenizer's own regex; <c>llama-bpe</c> (Llama 3) and <c>qwen2</c> are a Split regex then ByteLevel without regex.
/// </summary>
public static class BpePreTokenizerPatterns
{
    public const string Gpt2 = "gpt-2";
    public const string Llama3 = "llama-bpe";
    public const string Qwen2 = "qwen2";

    /// <summary>The Split regex of Llama 3's tokenizer.json.</summary>
    public const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The Split regex of Qwen2's tokenizer.json.</summary>
    public const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Names supported both ways.</summary>
    public static readonly IReadOnlyList<string> Supported = [Gpt2, Llama3, Qwen2];

    /// <summary>The Split regex of a named pre-tokenizer; null for <c>gpt-2</c> (ByteLevel's built-in regex).</summary>
    public static string? RegexOf(string name) => name switch
    {
        Llama3 => Llama3Regex,
        Qwen2 => Qwen2Regex,
        _ => null,
    };

    /// <summary>The name whose Split regex is <paramref name="regex"/>, or null.</summary>
    public static string? NameOf(string regex) => regex == Llama3Regex ? Llama3 : regex == Qwen2Regex ? Qwen2 : null;
}
