namespace FineTune.MLNet.Cli.Scaffolding;

/// <summary>
/// What one kind of generated project holds: each output file and the template (under <c>Templates/</c>) it comes from.
/// Files ending in <c>.cs</c>, <c>.csproj</c> or <c>.md</c> get their <c>{{placeholders}}</c> filled; data is copied.
/// </summary>
internal sealed record ScaffoldTask(string Name, string Description, IReadOnlyList<(string Output, string Template)> Files)
{
    /// <summary>The kinds <c>finetune new</c> knows, by name.</summary>
    public static readonly IReadOnlyList<ScaffoldTask> All =
    [
        new("classify", "text classification: fine-tune the bundled MiniLM encoder, evaluate, predict with a PredictionEngine",
        [
            ("Program.cs", "classify/Program.cs"), ("ModelInput.cs", "classify/ModelInput.cs"), ("ModelOutput.cs", "classify/ModelOutput.cs"),
            ("README.md", "classify/README.md"), ("data/train.csv", "data/reviews.train.csv"), ("data/test.csv", "data/reviews.test.csv"),
        ]),
        new("sft", "LoRA supervised fine-tuning of the bundled tinystories-260k decoder, then generation",
        [
            ("Program.cs", "sft/Program.cs"), ("StoryGeneration.cs", "common/StoryGeneration.cs"), ("README.md", "sft/README.md"), ("data/train.csv", "data/story_continuations.csv"),
        ]),
        new("dpo", "DPO preference alignment of the bundled tinystories-260k decoder, then generation",
        [
            ("Program.cs", "dpo/Program.cs"), ("StoryGeneration.cs", "common/StoryGeneration.cs"), ("README.md", "dpo/README.md"), ("data/train.csv", "data/story_preferences.csv"),
        ]),
    ];

    /// <summary>The files every project holds besides its own: the argument parser (the csproj is named after the project).</summary>
    public static readonly IReadOnlyList<(string Output, string Template)> CommonFiles = [("Arguments.cs", "common/Arguments.cs")];

    public static ScaffoldTask Find(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown project kind '{name}': expected one of {string.Join(", ", All.Select(t => t.Name))}.");
}
