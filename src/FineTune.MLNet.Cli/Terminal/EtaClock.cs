using FineTune.MLNet.Training;

namespace FineTune.MLNet.Cli.Terminal;

/// <summary>
/// The time left, from the steps taken since the first report (a resumed run starts counting there): the mean time per
/// step since then times the steps left; null until a second step has been seen.
/// </summary>
internal sealed class EtaClock(TimeProvider time)
{
    private long _originTimestamp;
    private long _originStep = -1;

    /// <summary>Records a step report and returns the ETA after it.</summary>
    public TimeSpan? After(TrainingProgress p)
    {
        if (_originStep < 0 || p.Step < _originStep)
        {
            (_originTimestamp, _originStep) = (time.GetTimestamp(), p.Step);
            return null;
        }
        long done = p.Step - _originStep;
        if (done <= 0) return null;
        var elapsed = time.GetElapsedTime(_originTimestamp);
        return TimeSpan.FromSeconds(elapsed.TotalSeconds / done * Math.Max(0, p.TotalSteps - p.Step));
    }
}
