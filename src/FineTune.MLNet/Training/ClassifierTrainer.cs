using System.Diagnostics;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training;

/// <summary>Outcome of a training run.</summary>
public sealed record TrainingReport(TrainerState State, double TrainSeconds, double TokensPerSecond, bool Completed);

/// <summary>
/// Fine-tunes a <see cref="BertForSequenceClassification"/>: AdamW, warmup + decay, gradient accumulation and clipping,
/// validation each epoch with early stopping and best-weight restore, atomic checkpoints and exact resume.
/// </summary>
internal sealed class ClassifierTrainer(TrainerOptions options, int maxLength, IChannel? log)
{
    public TrainingReport Train(BertForSequenceClassification model, WordPieceTokenizer tokenizer,
        IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText>? valid)
    {
        var device = TorchDevices.Parse(options.Device);
        var lengths = train.Select(e => Math.Min(maxLength, e.Pair is null ? tokenizer.CountTokens(e.Text) : tokenizer.CountTokens(e.Text, e.Pair))).ToArray();
        var batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var stepsPerEpoch = (batchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
        var totalSteps = (long)stepsPerEpoch * options.Epochs;
        var warmup = (long)Math.Ceiling(totalSteps * options.WarmupRatio);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), options.WeightDecay,
            name => !(name.EndsWith(".bias") || name.Contains("LayerNorm.") || name.Contains("layer_norm")));

        var state = new TrainerState { Seed = options.Seed, TotalSteps = totalSteps };
        Dictionary<string, Tensor>? best = null;
        random.manual_seed(options.Seed);
        if (options.CheckpointDirectory is { } dir && CheckpointStore.LoadLatest(dir) is { } ckpt)
        {
            using (ckpt)
            {
                if (ckpt.State.Seed != options.Seed || ckpt.State.TotalSteps != totalSteps)
                    throw new InvalidOperationException($"Checkpoint {ckpt.Path} was written by a run with seed {ckpt.State.Seed} and {ckpt.State.TotalSteps} total steps; this run has seed {options.Seed} and {totalSteps} steps. Use another CheckpointDirectory or the same data and options.");
                CopyInto(trainable, ckpt.Model, ckpt.Path);
                optimizer.LoadStateDict(ckpt.Optimizer);
                best = ckpt.BestModel?.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
                random.set_rng_state(ckpt.RngState);
                state = ckpt.State;
                log?.Log($"Resumed from {ckpt.Path} at step {state.GlobalStep} (epoch {state.Epoch}, batch {state.NextBatch}).");
            }
        }

        model.to(device).train();
        var clock = Stopwatch.StartNew();
        long tokensAtStart = state.TokensSeen, stepsThisCall = 0;
        var completed = true;
        while (state.Epoch < options.Epochs && !state.StoppedEarly)
        {
            var batches = LengthBucketBatcher.Batches(lengths, options.BatchSize, options.Seed, state.Epoch);
            double lossSum = 0; int lossCount = 0, micro = 0;
            for (var b = state.NextBatch; b < batches.Count; b++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                using (var scope = NewDisposeScope())
                {
                    using var batch = ClassifierBatch.Create(tokenizer, train, batches[b], maxLength, device, withLabels: true);
                    var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);     // (B, C)
                    var loss = nn.functional.cross_entropy(logits, batch.Labels!);                           // ()
                    loss.div(options.GradientAccumulationSteps).backward();
                    var lossValue = loss.item<float>();
                    if (!float.IsFinite(lossValue))
                        throw new InvalidOperationException($"Training loss became {lossValue} at epoch {state.Epoch}, batch {b} (step {state.GlobalStep}): lower LearningRate ({options.LearningRate}) or check the data.");
                    lossSum += lossValue; lossCount++;
                    state.TokensSeen += batch.Tokens;
                }
                micro++;
                var lastOfEpoch = b == batches.Count - 1;
                if (micro % options.GradientAccumulationSteps != 0 && !lastOfEpoch) continue;

                if (options.MaxGradNorm > 0) nn.utils.clip_grad_norm_(optimizer.Parameters, options.MaxGradNorm);
                var lr = options.LearningRate * LearningRateSchedule.Multiplier(state.GlobalStep, warmup, totalSteps, options.Decay);
                optimizer.Step(lr);
                optimizer.ZeroGrad();
                state.GlobalStep++; stepsThisCall++;
                state.NextBatch = b + 1;
                var tps = (state.TokensSeen - tokensAtStart) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                options.Progress?.Report(new TrainingProgress(state.Epoch, state.GlobalStep, totalSteps, lossSum / lossCount, lr, tps));

                var stopNow = options.StopAfterSteps is { } stop && stepsThisCall >= stop && state.GlobalStep < totalSteps;
                if (lastOfEpoch)
                {
                    EndEpoch(model, tokenizer, valid, device, state, lossSum / Math.Max(1, lossCount), ref best, trainable);
                }
                if (options.CheckpointDirectory is { } d && (lastOfEpoch || stopNow || state.GlobalStep % options.CheckpointEverySteps == 0))
                {
                    SaveCheckpoint(d, state, trainable, optimizer, best);
                }
                if (stopNow) { completed = false; break; }
            }
            if (!completed) break;
        }
        if (completed && best is not null) CopyInto(trainable, best, "the best validation epoch");
        best?.Values.ToList().ForEach(t => t.Dispose());
        model.eval();
        var seconds = clock.Elapsed.TotalSeconds;
        return new TrainingReport(state, seconds, (state.TokensSeen - tokensAtStart) / Math.Max(1e-9, seconds), completed);
    }

    private void EndEpoch(BertForSequenceClassification model, WordPieceTokenizer tokenizer, IReadOnlyList<LabeledText>? valid,
        Device device, TrainerState state, double trainLoss, ref Dictionary<string, Tensor>? best, List<(string name, TorchSharp.Modules.Parameter parameter)> trainable)
    {
        double? vLoss = null, vAcc = null, vF1 = null;
        if (valid is { Count: > 0 })
        {
            var rngState = random.get_rng_state();   // validation must not disturb the training RNG stream
            var probs = ClassifierInference.Probabilities(model, tokenizer, valid, options.BatchSize * 4, maxLength, device);
            random.set_rng_state(rngState);
            rngState.Dispose();
            vLoss = ClassifierInference.Loss(probs, valid);
            var m = ClassificationMetrics.Compute(valid.Select(v => v.Label).ToArray(), probs.Select(ClassifierInference.ArgMax).ToArray(), probs[0].Length);
            vAcc = m.Accuracy; vF1 = m.MacroF1;
            if (options.EarlyStoppingPatience is { } patience)
            {
                if (state.BestValidationLoss is null || vLoss < state.BestValidationLoss)
                {
                    state.BestValidationLoss = vLoss;
                    state.EpochsWithoutImprovement = 0;
                    best?.Values.ToList().ForEach(t => t.Dispose());
                    best = trainable.ToDictionary(p => p.name, p => p.parameter.detach().cpu().clone().DetachFromDisposeScope());
                }
                else if (++state.EpochsWithoutImprovement >= patience)
                {
                    state.StoppedEarly = true;
                    log?.Log($"Early stopping after epoch {state.Epoch + 1}: validation loss did not improve for {patience} epoch(s).");
                }
            }
        }
        state.History.Add(new EpochRecord(state.Epoch, trainLoss, vLoss, vAcc, vF1));
        log?.Log($"epoch {state.Epoch + 1}/{options.Epochs}: train loss {trainLoss:F4}" +
                  (vLoss is null ? "" : $", validation loss {vLoss:F4}, accuracy {vAcc:P1}, macro-F1 {vF1:F3}"));
        if (vLoss is not null) options.Progress?.Report(new TrainingProgress(state.Epoch, state.GlobalStep, state.TotalSteps, trainLoss, 0, 0, vLoss, vAcc, vF1));
        state.Epoch++;
        state.NextBatch = 0;
    }

    private void SaveCheckpoint(string dir, TrainerState state, List<(string name, TorchSharp.Modules.Parameter parameter)> trainable, AdamW optimizer, Dictionary<string, Tensor>? best)
    {
        using var scope = NewDisposeScope();
        var weights = trainable.ToDictionary(p => p.name, p => p.parameter.detach().cpu());
        var path = CheckpointStore.Save(dir, state, weights, optimizer.StateDict(), best, random.get_rng_state(), options.CheckpointsToKeep);
        log?.Log($"Checkpoint written: {path}");
    }

    private static void CopyInto(List<(string name, TorchSharp.Modules.Parameter parameter)> trainable, IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        using var _ = no_grad();
        foreach (var (name, p) in trainable)
        {
            if (!source.TryGetValue(name, out var t)) throw new InvalidDataException($"{origin} has no weight '{name}'.");
            if (!t.shape.SequenceEqual(p.shape)) throw new InvalidDataException($"{origin}: '{name}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", p.shape)}].");
            p.copy_(t);
        }
    }
}
