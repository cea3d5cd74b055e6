using Microsoft.ML.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training;

/// <summary>The step's mean loss (over the items of its accumulation group) and global gradient L2 norm, as read back once from the device.</summary>
internal readonly record struct StepCheck(float Loss, float GradNorm)
{
    public bool IsFinite => float.IsFinite(Loss) && float.IsFinite(GradNorm);
}

/// <summary>
/// Keeps NaN / Inf out of the weights: each optimizer step reads its loss and global gradient norm in one device-to-host
/// copy (the step's only sync), clips on the device when finite (the same operations as libtorch's
/// <c>clip_grad_norm_</c>), and otherwise has the loop skip the step, dropping its gradients with the optimizer state
/// untouched. After <see cref="TrainerOptions.MaxConsecutiveNonFiniteSteps"/> skipped steps in a row it stops training.
/// </summary>
internal sealed class NonFiniteGuard(TrainerOptions options, IChannel? log)
{
    /// <summary>Reads <paramref name="stepLoss"/> and the gradient norm of <paramref name="parameters"/>; clips the gradients when both are finite.</summary>
    public StepCheck ReadAndClip(Tensor stepLoss, IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        var norms = grads.Select(g => g.norm(2.0f)).ToList();                                            // each ()
        var total = norms.Count switch { 0 => zeros(1, device: stepLoss.device).squeeze(), 1 => norms[0], _ => stack(norms).norm(2.0f) };   // ()
        var read = stack([stepLoss.to(ScalarType.Float32).reshape(), total.to(ScalarType.Float32)]).cpu().data<float>().ToArray();  // (2): the sync
        var check = new StepCheck(read[0], read[1]);
        if (check.IsFinite && options.MaxGradNorm > 0)
        {
            var coefficient = (total + 1e-6).reciprocal_().mul_(options.MaxGradNorm).clamp_max_(1.0);   // () min(1, max / (norm + 1e-6))
            foreach (var g in grads) g.mul_(coefficient);
        }
        return check;
    }

    /// <summary>
    /// Records a step's outcome in <paramref name="state"/>: true for a finite step (train on it); false for a skipped
    /// one, logged with its position. Throws <see cref="TrainingHaltedException"/> on the last allowed skip in a row.
    /// </summary>
    public bool Admit(TrainerState state, StepCheck check, int batch, string? lastCheckpoint)
    {
        if (check.IsFinite)
        {
            state.ConsecutiveNonFiniteSteps = 0;
            return true;
        }
        state.NonFiniteSteps++;
        state.ConsecutiveNonFiniteSteps++;
        var limit = options.MaxConsecutiveNonFiniteSteps;
        var what = $"step {state.GlobalStep + 1} (epoch {state.Epoch + 1}, batch {batch}): loss {Invariant(check.Loss)}, gradient norm {Invariant(check.GradNorm)}";
        log?.Warning(MessageSensitivity.None, "{0}", $"Skipped optimizer {what}; gradients dropped, weights and optimizer state unchanged ({state.ConsecutiveNonFiniteSteps} of at most {limit} in a row).");
        if (state.ConsecutiveNonFiniteSteps < limit) return false;
        throw new TrainingHaltedException(
            $"Training stopped: {limit} optimizer steps in a row had a non-finite loss or gradient (last: {what}). " +
            $"Lower LearningRate ({options.LearningRate}) or check the data; MaxConsecutiveNonFiniteSteps is {limit}. " +
            (lastCheckpoint is null ? "No checkpoint was written." : $"The last checkpoint, {lastCheckpoint}, is intact."),
            lastCheckpoint);
    }

    private static string Invariant(float value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);   // "NaN", "Infinity"
}
