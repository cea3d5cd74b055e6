using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Training;

/// <summary>
/// One optimizer step's accumulation group: each micro-batch's summed loss is back-propagated as it comes (gradients add
/// up in <c>.grad</c>), and at the end the gradients are divided once by the items of the whole group. So the step
/// trains on the group's mean loss whatever its split into micro-batches, and a short last group of an epoch is not
/// scaled as if it were full: batch 8 × accumulation 1 and batch 2 × accumulation 4 give the same gradients. This is the
/// fix transformers made in 4.46 (<c>num_items_in_batch</c>) and what torchtune does (<c>scale_grads</c> by the token count).
/// </summary>
internal sealed class GradientAccumulator : IDisposable
{
    private Tensor? _lossSum;      // () summed on the device; read once per step
    private Tensor? _metricSums;   // (M) the task's metric sums, likewise
    private double _items;

    /// <summary>Back-propagates <paramref name="batch"/>'s summed loss and adds its loss, items and metric sums to the group.</summary>
    public void Add(BatchLoss batch)
    {
        batch.LossSum.backward();
        var loss = batch.LossSum.detach();
        _lossSum = _lossSum is null ? loss.clone().DetachFromDisposeScope() : _lossSum.add_(loss);
        if (batch.MetricSums is { } m)
            _metricSums = _metricSums is null ? m.detach().clone().DetachFromDisposeScope() : _metricSums.add_(m.detach());
        _items += batch.Items;
    }

    /// <summary>
    /// Divides the gradients of <paramref name="parameters"/> by the group's items and returns the group's mean loss
    /// (a scalar in the caller's dispose scope) and metric sums (the caller disposes them); the group starts empty again.
    /// </summary>
    public (Tensor MeanLoss, Tensor? MetricSums) Finish(IEnumerable<Parameter> parameters)
    {
        if (_lossSum is null) throw new InvalidOperationException("An accumulation group needs at least one batch.");
        var scale = 1.0 / Math.Max(_items, 1e-12);      // a group without supervised items has zero gradients anyway
        using (no_grad())
        {
            foreach (var p in parameters)
                p.grad?.mul_(scale);
        }
        var mean = _lossSum.mul(scale);                 // ()
        _lossSum.Dispose();
        var metrics = _metricSums;
        (_lossSum, _metricSums, _items) = (null, null, 0);
        return (mean, metrics);
    }

    public void Dispose()
    {
        _lossSum?.Dispose();
        _metricSums?.Dispose();
    }
}
