using System.Diagnostics;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using FineTune.MLNet.Training.Resume;

namespace FineTune.MLNet.Training;

/// <summary>Outcome of a training run.</summary>
public sealed record TrainingReport(TrainerState State, double TrainSeconds, double TokensPerSecond, bool Completed);

/// <summary>
/// The fine-tuning loop shared by every task: AdamW (no decay on biases and norms), warmup + decay, gradient
/// accumulation and clipping, validation each epoch with early stopping and best-weight restore, atomic checkpoints and
/// exact resume (model, optimizer, RNG and data position). The task supplies the batches' loss.
/// </summary>
/// <param name="progress">Receives a report after each optimizer step and validation pass (the estimators pass their
/// options' <see cref="TrainerOptions.Progress"/>, or an adapter that forwards to it).</param>
internal sealed class TrainingLoop(TrainerOptions options, IChannel? log, IProgress<TrainingProgress>? progress = null)
{
    /// <summary>
    /// Fault injection for the kill tests: called inside every optimizer step, after each micro-batch's backward pass and
    /// before the update, with the number of the step in progress. The CLI sets it only under FINETUNE_HOLD_IN_STEP.
    /// </summary>
    internal static Action<long>? InsideStep { get; set; }

    public TrainingReport Run(nn.Module model, ITrainingTask task)
    {
        var lengths = task.Lengths;
        if (lengths.Count == 0) throw new InvalidDataException("There are no training examples.");
        var batchesPerEpoch = (lengths.Count + options.BatchSize - 1) / options.BatchSize;
        var stepsPerEpoch = (batchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
        var totalSteps = (long)stepsPerEpoch * options.Epochs;
        var warmup = (long)Math.Ceiling(totalSteps * options.WarmupRatio);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        using var optimizer = new AdamW(trainable.Select(p => (p.name, p.parameter)), options.WeightDecay,
            name => !(name.EndsWith(".bias") || name.Contains("LayerNorm.") || name.Contains("layer_norm") || name.Contains("norm.weight")));

        var state = new TrainerState { Seed = options.Seed, TotalSteps = totalSteps };
        Dictionary<string, Tensor>? best = null;
        random.manual_seed(options.Seed);
        string? lastCheckpoint = null;
        if (options.CheckpointDirectory is { } dir && ResumeCheckpointStore.LoadLatest(dir, Warn) is { } ckpt)
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
                lastCheckpoint = ckpt.Path;
                log?.Log($"{ResumeCheckpointStore.ResumeNotice} {Path.GetFileName(ckpt.Path)} (step {state.GlobalStep} of {totalSteps}) in {Path.GetDirectoryName(ckpt.Path)}.");
            }
        }

        model.train();
        var clock = Stopwatch.StartNew();
        long tokensAtStart = state.TokensSeen, stepsThisCall = 0;
        var completed = true;
        var guard = new NonFiniteGuard(options, log);
        while (state.Epoch < options.Epochs && !state.StoppedEarly)
        {
            var batches = LengthBucketBatcher.Batches(lengths, options.BatchSize, options.Seed, state.Epoch);
            var micro = 0;
            using var group = new GradientAccumulator();
            for (var b = state.NextBatch; b < batches.Count; b++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                using (var scope = NewDisposeScope())
                {
                    var batch = task.ComputeLoss(batches[b]);                     // loss (), metric sums (M) or null
                    group.Add(batch);
                    InsideStep?.Invoke(state.GlobalStep + 1);
                    state.TokensSeen += batch.Tokens;
                }
                micro++;
                var lastOfEpoch = b == batches.Count - 1;
                if (micro % options.GradientAccumulationSteps != 0 && !lastOfEpoch) continue;

                StepCheck check;
                IReadOnlyDictionary<string, double>? stepMetrics;
                using (var scope = NewDisposeScope())
                {
                    var (meanLoss, metricSums) = group.Finish(optimizer.Parameters);          // gradients now of the group's mean loss
                    check = guard.ReadAndClip(meanLoss, optimizer.Parameters);                // the step's only host sync
                    stepMetrics = metricSums is null ? null : task.StepMetrics(metricSums);
                    metricSums?.Dispose();
                }
                var lr = options.LearningRate * LearningRateSchedule.Multiplier(state.GlobalStep, warmup, totalSteps, options.Decay);
                if (guard.Admit(state, check, b, lastCheckpoint))                        // false: NaN/Inf, step skipped
                {
                    state.EpochLossSum += check.Loss;
                    state.EpochLossCount++;
                    optimizer.Step(lr);
                }
                optimizer.ZeroGrad();
                state.GlobalStep++; stepsThisCall++;
                state.NextBatch = b + 1;
                var tps = (state.TokensSeen - tokensAtStart) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                if (stepMetrics is not null) state.MetricsHistory.Add(new MetricsRecord(state.Epoch, state.GlobalStep, false, new(stepMetrics)));
                progress?.Report(new TrainingProgress(state.Epoch, state.GlobalStep, totalSteps, state.EpochLossSum / Math.Max(1, state.EpochLossCount), lr, tps, Metrics: stepMetrics, GradNorm: check.GradNorm));

                var stopNow = options.StopAfterSteps is { } stop && stepsThisCall >= stop && state.GlobalStep < totalSteps;
                if (lastOfEpoch) EndEpoch(model, task, state, state.EpochLossSum / Math.Max(1, state.EpochLossCount), ref best, trainable);
                if (options.CheckpointDirectory is { } d && (lastOfEpoch || stopNow || state.GlobalStep % options.CheckpointEverySteps == 0))
                {
                    lastCheckpoint = SaveCheckpoint(d, state, trainable, optimizer, best);
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

    private void EndEpoch(nn.Module model, ITrainingTask task, TrainerState state, double trainLoss,
        ref Dictionary<string, Tensor>? best, List<(string name, Parameter parameter)> trainable)
    {
        var rngState = random.get_rng_state();   // validation must not disturb the training RNG stream
        var wasTraining = model.training;
        model.eval();
        ValidationResult? v;
        using (no_grad()) v = task.Validate();
        model.train(wasTraining);
        random.set_rng_state(rngState);
        rngState.Dispose();
        if (v is not null && options.EarlyStoppingPatience is { } patience)
        {
            if (state.BestValidationLoss is null || v.Loss < state.BestValidationLoss)
            {
                state.BestValidationLoss = v.Loss;
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
        state.History.Add(new EpochRecord(state.Epoch, trainLoss, v?.Loss, v?.Accuracy, v?.MacroF1));
        log?.Log($"epoch {state.Epoch + 1}/{options.Epochs}: train loss {trainLoss:F4}" +
                 (v is null ? "" : $", validation loss {v.Loss:F4}" + (v.Accuracy is { } a ? $", accuracy {a:P1}" : "") + (v.MacroF1 is { } f1 ? $", macro-F1 {f1:F3}" : "")));
        if (v?.Metrics is { } metrics) state.MetricsHistory.Add(new MetricsRecord(state.Epoch, state.GlobalStep, true, new(metrics)));
        if (v is not null) progress?.Report(new TrainingProgress(state.Epoch, state.GlobalStep, state.TotalSteps, trainLoss, 0, 0, v.Loss, v.Accuracy, v.MacroF1, v.Metrics));
        state.Epoch++;
        state.NextBatch = 0;
        state.EpochLossSum = 0;
        state.EpochLossCount = 0;
    }

    private string SaveCheckpoint(string dir, TrainerState state, List<(string name, Parameter parameter)> trainable, AdamW optimizer, Dictionary<string, Tensor>? best)
    {
        using var scope = NewDisposeScope();
        var weights = trainable.ToDictionary(p => p.name, p => p.parameter.detach().cpu());
        var path = ResumeCheckpointStore.Save(dir, state, weights, optimizer.StateDict(), best, random.get_rng_state(), options.CheckpointsToKeep);
        log?.Log($"Checkpoint written: {path}");
        return path;
    }

    private void Warn(string message) => log?.Warning(MessageSensitivity.None, "{0}", message);

    private static void CopyInto(List<(string name, Parameter parameter)> trainable, IReadOnlyDictionary<string, Tensor> source, string origin)
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
