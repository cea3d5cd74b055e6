using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter; PyTorch's <c>torch.optim.AdamW</c> update, non-amsgrad) over named parameter groups.
/// Owned here rather than TorchSharp's so its state is plain named tensors that checkpoints save as safetensors
/// and resume exactly.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<Slot> _slots = [];
    private readonly double _beta1, _beta2, _eps;

    /// <param name="parameters">Named trainable parameters.</param>
    /// <param name="weightDecay">Decoupled weight decay for parameters <paramref name="decays"/> accepts.</param>
    /// <param name="decays">Which parameter names get weight decay (HF: not biases, not LayerNorm weights).</param>
    public AdamW(IEnumerable<(string Name, Parameter Param)> parameters, double weightDecay, Func<string, bool> decays,
        double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        foreach (var (name, p) in parameters)
        {
            if (!p.requires_grad) continue;
            _slots.Add(new Slot(name, p, decays(name) ? weightDecay : 0.0, zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope()));
        }
        if (_slots.Count == 0) throw new InvalidOperationException("AdamW: the model has no trainable parameters.");
    }

    /// <summary>Number of optimizer steps taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>Names of the parameters this optimizer updates.</summary>
    public IEnumerable<string> ParameterNames => _slots.Select(s => s.Name);

    /// <summary>The trainable parameters, e.g. for gradient clipping.</summary>
    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Param);

    /// <summary>One update with learning rate <paramref name="lr"/>; parameters without a gradient are skipped.</summary>
    public void Step(double lr)
    {
        StepCount++;
        var bias1 = 1 - Math.Pow(_beta1, StepCount);
        var bias2 = 1 - Math.Pow(_beta2, StepCount);
        var stepSize = lr / bias1;
        var bias2Sqrt = Math.Sqrt(bias2);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var s in _slots)
        {
            var g = s.Param.grad;
            if (g is null) continue;
            if (s.WeightDecay != 0) s.Param.mul_(1 - lr * s.WeightDecay);
            s.ExpAvg.mul_(_beta1).add_(g, alpha: 1 - _beta1);                 // m = b1 m + (1-b1) g
            s.ExpAvgSq.mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);        // v = b2 v + (1-b2) g²
            var denom = s.ExpAvgSq.sqrt().div_(bias2Sqrt).add_(_eps);        // √v̂ + ε
            s.Param.addcdiv_(s.ExpAvg, denom, value: -stepSize);            // p -= lr m̂ / (√v̂ + ε)
        }
    }

    /// <summary>Clears all gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var s in _slots)
        {
            if (s.Param.grad is { } g) { g.Dispose(); s.Param.grad = null; }
        }
    }

    /// <summary>Optimizer state as named CPU tensors (<c>exp_avg.{name}</c>, <c>exp_avg_sq.{name}</c>, <c>step</c>).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var s in _slots)
        {
            d["exp_avg." + s.Name] = s.ExpAvg.detach().cpu().clone();
            d["exp_avg_sq." + s.Name] = s.ExpAvgSq.detach().cpu().clone();
        }
        d["step"] = tensor(new[] { StepCount });
        return d;
    }

    /// <summary>Restores <see cref="StateDict"/>; every slot must be present with the right shape.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        foreach (var s in _slots)
        {
            Copy(state, "exp_avg." + s.Name, s.ExpAvg);
            Copy(state, "exp_avg_sq." + s.Name, s.ExpAvgSq);
        }
        if (!state.TryGetValue("step", out var step)) throw new InvalidDataException("Optimizer state has no 'step' entry.");
        StepCount = step.to(ScalarType.Int64).item<long>();
    }

    private static void Copy(IReadOnlyDictionary<string, Tensor> state, string key, Tensor into)
    {
        if (!state.TryGetValue(key, out var t))
            throw new InvalidDataException($"Optimizer state is missing '{key}': the checkpoint was written for a different set of trainable parameters.");
        if (!t.shape.SequenceEqual(into.shape))
            throw new InvalidDataException($"Optimizer state '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", into.shape)}].");
        into.copy_(t);
    }

    public void Dispose()
    {
        foreach (var s in _slots) { s.ExpAvg.Dispose(); s.ExpAvgSq.Dispose(); }
        _slots.Clear();
    }

    private sealed record Slot(string Name, Parameter Param, double WeightDecay, Tensor ExpAvg, Tensor ExpAvgSq);
}
