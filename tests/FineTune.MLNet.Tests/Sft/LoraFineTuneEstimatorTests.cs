using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Formats;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.SafeTensors;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Sft;

public sealed class LoraFineTuneEstimatorTests
{
    private sealed class QaRow
    {
        public string Prompt { get; set; } = "";
        public string Response { get; set; } = "";
    }

    private static readonly QaRow[] Facts =
    [
        new() { Prompt = "What colour is the robot?", Response = "blue" },
        new() { Prompt = "How many wheels?", Response = "six wheels" },
        new() { Prompt = "Who built it?", Response = "Ada" },
        new() { Prompt = "Where is the office?", Response = "in Lyon" },
    ];

    private static LoraFineTuneOptions Options(string model, bool qlora, List<TrainingProgress>? sink = null) => new()
    {
        Model = model,
        Epochs = 200,
        BatchSize = 4,
        LearningRate = 1e-2,
        WarmupRatio = 0.05,
        Decay = LearningRateDecay.Cosine,
        MaxGradNorm = 1.0,
        Seed = 5,
        Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"], QuantizeBase = qlora },
        Data = new SftDataOptions { MaxLength = 64 },
        Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 8 },
        Progress = sink is null ? null : new SyncProgress(sink),
    };

    [Fact]
    public void LoraSftDrivesLossDownAndGeneratesTheMemorisedAnswers()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyLlamaFolder.Create();
        var data = ml.Data.LoadFromEnumerable(Facts);
        var progress = new List<TrainingProgress>();
        var fitted = ml.Transforms.LoraFineTune(Options(model, qlora: false, progress)).Fit(data);

        var first = progress.First().TrainLoss;
        var last = progress.Last().TrainLoss;
        Assert.True(last < 0.1 * first, $"loss {first:F3} -> {last:F3}: " + string.Join(" ", progress.Where((p, i) => i % 10 == 0).Select(p => p.TrainLoss.ToString("F2") + "@" + p.LearningRate.ToString("E1"))));

        Assert.True(last < 0.05, $"final loss {last}");
        var generated = fitted.Transform(data).GetColumn<string>("Generated").ToArray();
        Assert.Equal(Facts.Select(f => f.Response), generated);

        // Only adapter tensors trained; the PEFT adapter has PEFT's key names.
        using var adapterDirTemp = new TempDir("adapter");
        var adapterDir = Path.Combine(adapterDirTemp.Path, "adapter");
        fitted.SaveAdapter(adapterDir);
        var keys = SafeTensorsFile.ReadHeader(Path.Combine(adapterDir, "adapter_model.safetensors")).Keys.ToList();
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", keys);
        Assert.Contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", keys);
        Assert.Equal(2 * 7 * 2, keys.Count);
    }

    [Fact]
    public void QloraStoresBaseInNf4AndTracksLoraLoss()
    {
        var ml = new MLContext(seed: 1);
        var model = TinyLlamaFolder.Create();
        var data = ml.Data.LoadFromEnumerable(Facts);
        var loraLoss = new List<TrainingProgress>();
        var qloraLoss = new List<TrainingProgress>();
        using var lora = ml.Transforms.LoraFineTune(Options(model, qlora: false, loraLoss) with { Epochs = 20 }).Fit(data);
        using var qlora = ml.Transforms.LoraFineTune(Options(model, qlora: true, qloraLoss) with { Epochs = 20 }).Fit(data);

        var layers = qlora.Model.named_modules().Select(m => m.module).OfType<LoraLinear>().ToList();
        Assert.All(layers, l => Assert.True(l.IsQuantized));
        var bytes = layers.Sum(l => l.BaseWeightBytes);
        var parameters = layers.Sum(l => l.InFeatures * l.OutFeatures);
        var perParameter = (double)bytes / parameters;
        Assert.InRange(perParameter, 0.50, 0.56);

        // Same data, same seed: the QLoRA loss curve stays close to LoRA's.
        for (var i = 0; i < loraLoss.Count; i += 5)
            Assert.True(Math.Abs(loraLoss[i].TrainLoss - qloraLoss[i].TrainLoss) < 0.25 * loraLoss[i].TrainLoss + 0.05,
                $"step {i}: LoRA {loraLoss[i].TrainLoss:F3} vs QLoRA {qloraLoss[i].TrainLoss:F3}");
        Assert.True(qloraLoss.Last().TrainLoss < 0.3 * qloraLoss.First().TrainLoss);

        // The merged save dequantizes first and reloads as a plain checkpoint with the same logits.
        using var mergedTemp = new TempDir("merged");
        var merged = Path.Combine(mergedTemp.Path, "merged");
        qlora.SaveMerged(merged);
        using var reloaded = FineTune.MLNet.Models.Llama.LlamaForCausalLM.FromPretrained(merged);
        using var ids = TorchSharp.torch.tensor(new long[] { 1, 40, 41, 42 }).unsqueeze(0);
        using var _ = TorchSharp.torch.no_grad();
        qlora.Model.eval();
        var diff = (qlora.Model.Forward(ids) - reloaded.Forward(ids)).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"merged QLoRA checkpoint differs by {diff}");
    }

    [Fact]
    public void EmptyResponsesWithoutEosFailClearly()
    {
        var ml = new MLContext(seed: 1);
        var rows = Facts.Select(f => new QaRow { Prompt = f.Prompt, Response = "" }).ToArray();
        var options = Options(TinyLlamaFolder.Create(), qlora: false) with { Data = new SftDataOptions { MaxLength = 64, AppendEos = false } };
        var e = Assert.ThrowsAny<InvalidDataException>(() => ml.Transforms.LoraFineTune(options).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("supervised", e.Message);
    }

    [Fact]
    public void MissingPromptColumnIsNamed()
    {
        var ml = new MLContext(seed: 1);
        var options = Options(TinyLlamaFolder.Create(), qlora: false) with { PromptColumnName = "Question" };
        var e = Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.LoraFineTune(options).Fit(ml.Data.LoadFromEnumerable(Facts)));
        Assert.Contains("'Question'", e.Message);
    }

    private sealed class SyncProgress(List<TrainingProgress> sink) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) { if (!value.IsValidation) sink.Add(value); }
    }
}

public sealed class LoraPipelineSaveTests
{
    private sealed class QaRow { public string Prompt { get; set; } = ""; public string Response { get; set; } = ""; }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SavedPipelineReloadsWithIdenticalAnswers(bool qlora)
    {
        var ml = new MLContext(seed: 1);
        var rows = new[] { new QaRow { Prompt = "Who built it?", Response = "Ada" }, new QaRow { Prompt = "Where?", Response = "in Lyon" } };
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new LoraFineTuneOptions
        {
            Model = TinyLlamaFolder.Create(), Epochs = 20, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 2,
            Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"], QuantizeBase = qlora },
            Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 6 },
        };
        var fitted = ml.Transforms.LoraFineTune(options).Fit(data);
        var before = fitted.Transform(data).GetColumn<string>("Generated").ToArray();
        using var dirTemp = new TempDir("lora-pipeline");
        var dir = Path.Combine(dirTemp.Path, "lora-pipeline");
        FineTune.MLNet.Transformers.FineTunePipeline.Save(ml, fitted, data.Schema, dir);
        var reloaded = FineTune.MLNet.Transformers.FineTunePipeline.Load(ml, dir);
        Assert.Equal(before, reloaded.Transform(data).GetColumn<string>("Generated").ToArray());
        Assert.True(File.Exists(Path.Combine(dir, "segment-0-lora-finetune", "adapter", "adapter_config.json")));
        Assert.False(File.Exists(Path.Combine(dir, "segment-0-lora-finetune", "dpo_history.json")));   // an SFT fit has no DPO history
        Assert.Empty(((IEnumerable<ITransformer>)reloaded).OfType<FineTune.MLNet.Transformers.LoraFineTuneTransformer>().Single().DpoHistory);
    }
}

public sealed class MessagesColumnTests
{
    private sealed class ChatRow { public string Prompt { get; set; } = ""; public string Messages { get; set; } = ""; }

    [Fact]
    public void ChatMessagesColumnTrainsLikePromptResponse()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[] { ("Who built it?", "Ada"), ("Where is it?", "in Lyon") }
            .Select(p => new ChatRow
            {
                Prompt = p.Item1,
                Messages = System.Text.Json.JsonSerializer.Serialize(new[] { new { role = "user", content = p.Item1 }, new { role = "assistant", content = p.Item2 } }),
            }).ToArray();
        var options = new LoraFineTuneOptions
        {
            Model = TinyLlamaFolder.Create(), MessagesColumnName = "Messages", Epochs = 40, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 4,
            Lora = new LoraSettings { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["all-linear"] },
            Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 6 },
        };
        var data = ml.Data.LoadFromEnumerable(rows);
        var fitted = ml.Transforms.LoraFineTune(options).Fit(data);
        Assert.Equal(new[] { "Ada", "in Lyon" }, fitted.Transform(data).GetColumn<string>("Generated").ToArray());

        var bad = ml.Data.LoadFromEnumerable(new[] { new ChatRow { Prompt = "x", Messages = "[{\"role\": \"user\"}]" } });
        var e = Assert.ThrowsAny<InvalidDataException>(() => ml.Transforms.LoraFineTune(options).Fit(bad));
        Assert.Contains("Messages", e.Message);
    }
}
