using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Import.Gguf;

/// <summary>What <see cref="GgufLlamaImporter.Import"/> wrote.</summary>
/// <param name="Config">The model config written to <c>config.json</c>.</param>
/// <param name="TensorTypes">How many tensors of each ggml type the file held.</param>
/// <param name="TokenizerModel"><c>tokenizer.ggml.model</c> (llama or gpt2).</param>
public sealed record GgufImportResult(LlamaConfig Config, IReadOnlyDictionary<GgmlType, int> TensorTypes, string TokenizerModel);
