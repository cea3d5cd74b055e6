using FineTune.MLNet.Estimators;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Sft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>A tiny LoRA-tuned llama (2 layers, hidden 64) shared by the generation concurrency tests.</summary>
public sealed class FittedGeneratorFixture : IDisposable
{
    public sealed class PromptRow
    {
        public string Prompt { get; set; } = "";
        public string Response { get; set; } = "";
    }

    public FittedGeneratorFixture()
    {
        Ml = new MLContext(seed: 1);
        var options = new LoraFineTuneOptions
        {
            Model = TinyLlamaFolder.Create(), Epochs = 2, BatchSize = 4, LearningRate = 1e-2, Seed = 5,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["q_proj", "v_proj"] },
            Generation = new GenerationOptions { MaxNewTokens = 6 },
            InferenceBatchSize = 4,
        };
        Model = Ml.Transforms.LoraFineTune(options).Fit(Ml.Data.LoadFromEnumerable(Prompts.Select(p => new PromptRow { Prompt = p, Response = "yes" })));
    }

    public MLContext Ml { get; }
    public LoraFineTuneTransformer Model { get; }

    public IReadOnlyList<string> Prompts { get; } =
    [
        "What colour is the robot?", "How many wheels?", "Who built it?", "Where is the office?",
        "Is it fast?", "What does it eat?", "When was it made?", "Can it swim?",
    ];

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// One fitted LoRA transformer generating for 16 threads at once, greedy and seeded sampling (LoRA dropout 0.1 in
/// training, so a model left in training mode would answer differently): every answer must equal the sequential one,
/// nothing may throw, and no native tensor or resident memory may be left behind.
/// </summary>
public sealed class GenerationConcurrencyTests(FittedGeneratorFixture fixture, ITestOutputHelper output) : IClassFixture<FittedGeneratorFixture>
{
    private const int Threads = 16;
    private const int GenerationsPerThread = 200;
    private const int Rounds = 4;

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 6 };
    private static readonly GenerationOptions Sampled = new() { MaxNewTokens = 6, DoSample = true, Temperature = 1.5, Seed = 1234 };

    [Fact]
    public void SixteenThreadsGenerateWhatOneThreadGenerates()
    {
        var prompts = fixture.Prompts;
        Assert.False(fixture.Model.Model.training, "a fitted transformer is left in eval mode");
        var expected = new[] { Greedy, Sampled }.Select(o => prompts.Select(p => fixture.Model.Generate([p], o)[0]).ToArray()).ToArray();
        Assert.NotEqual(expected[0], expected[1]);   // sampling at temperature 1.5 takes other tokens: both paths are checked
        long compared = 0, mismatches = 0;
        string? first = null;
        var memory = NoLeak.Measure($"{Threads} threads x {GenerationsPerThread} generations (greedy and seeded sampling)", Threads, Rounds, (t, round) =>
        {
            for (var i = round * GenerationsPerThread / Rounds; i < (round + 1) * GenerationsPerThread / Rounds; i++)
            {
                var (p, mode) = ((t * 3 + i) % prompts.Count, (t + i) % 2);
                var answer = fixture.Model.Generate([prompts[p]], mode == 0 ? Greedy : Sampled)[0];
                Interlocked.Increment(ref compared);
                if (answer == expected[mode][p]) continue;
                Interlocked.Increment(ref mismatches);
                Interlocked.CompareExchange(ref first, $"prompt '{prompts[p]}' ({(mode == 0 ? "greedy" : "sampled")}): '{answer}' instead of '{expected[mode][p]}'", null);
            }
        });
        output.WriteLine($"{compared} generations compared, {mismatches} mismatches; {memory}");
        Assert.Equal(Threads * GenerationsPerThread, compared);
        Assert.True(mismatches == 0, $"{mismatches} of {compared} generations differ from sequential use; first: {first}");
    }

    [Fact]
    public void OneTransformerGeneratesForManyViewsFromManyThreads()
    {
        var ml = fixture.Ml;
        var inputs = Enumerable.Range(0, Threads).Select(t => ml.Data.LoadFromEnumerable(
            Enumerable.Range(0, 12).Select(i => new FittedGeneratorFixture.PromptRow { Prompt = fixture.Prompts[(t + 5 * i) % fixture.Prompts.Count] }).ToList())).ToList();
        var expected = inputs.Select(i => Answers(fixture.Model.Transform(i))).ToList();
        long compared = 0, mismatches = 0;
        const int passes = 2;
        var memory = NoLeak.Measure($"{Threads} threads x {passes} Transform passes over 12 prompts", Threads, passes, (t, _) =>
        {
            var answers = Answers(fixture.Model.Transform(inputs[t]));
            Interlocked.Add(ref compared, answers.Count);
            Interlocked.Add(ref mismatches, answers.Where((a, i) => a != expected[t][i]).Count());
        });
        output.WriteLine($"{compared} generated rows compared, {mismatches} mismatches; {memory}");
        Assert.Equal(Threads * passes * 12, compared);
        Assert.Equal(0, mismatches);
    }

    private static List<string> Answers(IDataView generated) => [.. generated.GetColumn<string>("Generated")];
}
