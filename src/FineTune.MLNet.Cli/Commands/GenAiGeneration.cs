using Microsoft.ML.OnnxRuntimeGenAI;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>Greedy decoding of an ONNX Runtime GenAI folder (<c>generate --onnx DIR</c>) with Microsoft.ML.OnnxRuntimeGenAI.</summary>
internal static class GenAiGeneration
{
    /// <summary>
    /// The new ids after <paramref name="promptIds"/> and why it stopped. GenAI 0.18 stops on EOS without putting the EOS id
    /// in its sequence, so an "Eos" finish has one id fewer than <c>generate --model</c> shows (GenAiFixtureIdsTests).
    /// </summary>
    public static (IReadOnlyList<int> Ids, string FinishReason) Greedy(string folder, IReadOnlyList<int> promptIds, int maxNewTokens)
    {
        if (!File.Exists(Path.Combine(folder, "genai_config.json")))
            throw new FileNotFoundException($"--onnx: '{folder}' has no genai_config.json (write one with `finetune export --format genai`).", Path.Combine(folder, "genai_config.json"));
        using var model = new Model(folder);
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", promptIds.Count + maxNewTokens);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens([.. promptIds]);
        while (!generator.IsDone()) generator.GenerateNextToken();
        var ids = generator.GetSequence(0).ToArray().Skip(promptIds.Count).ToList();
        return (ids, ids.Count < maxNewTokens ? "Eos" : "Length");
    }
}
