using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Sft;
using FineTune.MLNet.Training.Tasks.Sft;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Dpo;

/// <summary>
/// A pipeline with a DPO-tuned transformer (the same <see cref="LoraFineTuneTransformer"/> SFT returns) saves and reloads
/// with the same answers and the same DPO history, also from the segment kind older versions wrote.
/// </summary>
public sealed class DpoPipelineTests
{
    private sealed class PreferenceRow
    {
        public string Prompt { get; set; } = "";
        public string Chosen { get; set; } = "";
        public string Rejected { get; set; } = "";
    }

    [Fact]
    public void SavedPipelineWithDpoReloadsWithIdenticalAnswersAndHistory()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new PreferenceRow { Prompt = "Who built it?", Chosen = "Ada", Rejected = "Bob" },
            new PreferenceRow { Prompt = "Where is it?", Chosen = "in Lyon", Rejected = "in Paris" },
        });
        var logged = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("validation loss")) logged.Add(e.Message); };
        var model = TinyLlamaFolder.Create();
        try
        {
            using var saved = new TempDir();
            var pipeline = ml.Transforms.DpoFineTune(new DpoFineTuneOptions
            {
                Model = model, Epochs = 2, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Seed = 3,
                Lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["q_proj", "v_proj"] },
                Data = new SftDataOptions { MaxLength = 32 },
                Generation = new FineTune.MLNet.Generation.GenerationOptions { MaxNewTokens = 4 },
            }, validationSet: data)
                .Append(ml.Transforms.CopyColumns("Answer", "Generated"));
            var fitted = pipeline.Fit(data);
            var dpo = fitted.OfType<LoraFineTuneTransformer>().Single();
            var before = fitted.Transform(data).GetColumn<string>("Answer").ToArray();
            var dir = Path.Combine(saved.Path, "pipeline");

            FineTunePipeline.Save(ml, fitted, data.Schema, dir);
            var reloaded = FineTunePipeline.Load(ml, dir);

            Assert.Equal(before, reloaded.Transform(data).GetColumn<string>("Answer").ToArray());
            var again = ((IEnumerable<ITransformer>)reloaded).OfType<LoraFineTuneTransformer>().Single();
            Assert.Equal(4, dpo.DpoHistory.Count);                     // 2 steps + 2 validation passes
            Assert.Equal(dpo.DpoHistory, again.DpoHistory);             // records: epoch, step, kind and every metric
            Assert.Equal(Path.GetFullPath(model), again.Settings.Model);
            Assert.Equal((dpo.Settings.PromptColumnName, dpo.Settings.OutputColumnName, dpo.Settings.Lora.Rank, dpo.Settings.Data.MaxLength, dpo.Settings.Generation.MaxNewTokens),
                (again.Settings.PromptColumnName, again.Settings.OutputColumnName, again.Settings.Lora.Rank, again.Settings.Data.MaxLength, again.Settings.Generation.MaxNewTokens));
            Assert.Equal(dpo.Settings.Lora.TargetModules, again.Settings.Lora.TargetModules);
            Assert.True(File.Exists(Path.Combine(dir, "segment-0-lora-finetune", "adapter", "adapter_config.json")));
            Assert.True(File.Exists(Path.Combine(dir, "segment-0-lora-finetune", "dpo_history.json")));
            (reloaded as IDisposable)?.Dispose();

            // Pipelines saved when DPO had a transformer of its own name their segment "dpo-finetune".
            Directory.Move(Path.Combine(dir, "segment-0-lora-finetune"), Path.Combine(dir, "segment-0-dpo-finetune"));
            var manifest = Path.Combine(dir, "pipeline.json");
            var rewritten = File.ReadAllText(manifest).Replace("lora-finetune", "dpo-finetune");
            Assert.Contains("\"dpo-finetune\"", rewritten);
            File.WriteAllText(manifest, rewritten);
            var legacy = FineTunePipeline.Load(ml, dir);
            Assert.Equal(dpo.DpoHistory, ((IEnumerable<ITransformer>)legacy).OfType<LoraFineTuneTransformer>().Single().DpoHistory);
            (legacy as IDisposable)?.Dispose();
            dpo.Dispose();

            // DPO validation logs its loss and reward accuracy, but no classification macro-F1.
            Assert.Equal(2, logged.Count);
            Assert.All(logged, line => Assert.DoesNotContain("macro-F1", line));
        }
        finally
        {
            Directory.Delete(model, recursive: true);
        }
    }
}
