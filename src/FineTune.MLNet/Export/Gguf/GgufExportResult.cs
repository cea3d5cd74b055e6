using FineTune.MLNet.Formats.Gguf;

namespace FineTune.MLNet.Export.Gguf;

/// <summary>What <see cref="LlamaGgufExporter.Export"/> wrote.</summary>
/// <param name="Path">The GGUF file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="TensorTypes">How many tensors of each ggml type.</param>
/// <param name="TokenizerModel"><c>tokenizer.ggml.model</c>: llama or gpt2.</param>
public sealed record GgufExportResult(string Path, long Bytes, IReadOnlyDictionary<GgmlType, int> TensorTypes, string TokenizerModel);
