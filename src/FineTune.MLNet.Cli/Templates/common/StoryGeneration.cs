using FineTune.MLNet.Transformers;

namespace {{Namespace}};

/// <summary>
/// The last step of the sft and dpo projects: load the saved adapter back, as a serving application would, and continue
/// two story openings with it (greedy, the generation settings saved with the model).
/// </summary>
internal static class StoryGeneration
{
    private static readonly string[] Prompts =
    [
        "Once upon a time, there was a little dog named Max.",
        "Sara found a shiny key in the garden.",
    ];

    /// <summary>Reloads the model saved in <paramref name="outputDir"/> and prints one <c>Story: prompt continuation</c> line per prompt.</summary>
    public static void ReloadAndGenerate(string outputDir)
    {
        using var loaded = LoraFineTuneTransformer.Load(outputDir);
        Console.WriteLine($"Model saved to {outputDir} and reloaded.");
        var stories = loaded.Generate(Prompts);
        for (var i = 0; i < Prompts.Length; i++)
            Console.WriteLine($"Story: {Prompts[i]} {stories[i].Trim().ReplaceLineEndings(" ")}");
    }
}
