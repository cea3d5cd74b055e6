using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Llama2c;

namespace FineTune.MLNet.Import.Llama2c;

/// <summary>What <see cref="Llama2cImporter.Import"/> wrote.</summary>
/// <param name="Header">The checkpoint's header (layout version, sizes, shared classifier).</param>
/// <param name="Config">The model config written to <c>config.json</c>.</param>
/// <param name="Parameters">Number of weights written.</param>
public sealed record Llama2cImportResult(Llama2cHeader Header, LlamaConfig Config, long Parameters);
