using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using Microsoft.ML;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

public sealed class SftResumeTests
{
    private sealed class QaRow { public string Prompt { get; set; } = ""; public string Response { get; set; } = ""; }

    [Fact]
    public void StoppedAndResumedSftEqualsOneRun()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyLlamaFolder.Create();
        var rows = Enumerable.Range(0, 12).Select(i => new QaRow { Prompt = $"Question number {i}?", Response = $"Answer {i * 7}." }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new LoraFineTuneOptions
        {
            Model = model, Epochs = 2, BatchSize = 4, GradientAccumulationSteps = 2, LearningRate = 5e-3, Seed = 9,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["q_proj", "v_proj"] },
        };
        using var oneGo = ml.Transforms.LoraFineTune(options).Fit(data);

        using var ckptTemp = new TempDir("sft-ckpt");
        var ckpt = Path.Combine(ckptTemp.Path, "sft-ckpt");
        using (var first = ml.Transforms.LoraFineTune(options with { CheckpointDirectory = ckpt, StopAfterSteps = 1 }).Fit(data))
        {
            Assert.False(first.TrainingReport!.Completed);
        }
        using var resumed = ml.Transforms.LoraFineTune(options with { CheckpointDirectory = ckpt }).Fit(data);
        Assert.True(resumed.TrainingReport!.Completed);
        var a = oneGo.Model.named_parameters().Where(p => p.name.Contains(".lora_")).ToDictionary(p => p.name, p => p.parameter);
        var compared = 0;
        foreach (var (name, p) in resumed.Model.named_parameters().Where(p => p.name.Contains(".lora_")))
        {
            var diff = (a[name] - p).abs().max().item<float>();
            Assert.True(diff == 0, $"{name} differs by {diff}");
            compared++;
        }
        // 2 layers x (q_proj, v_proj) x (lora_A, lora_B): a filter that matched nothing would compare nothing.
        Assert.Equal(2 * 2 * 2, compared);
        Assert.Equal(compared, a.Count);
    }
}
