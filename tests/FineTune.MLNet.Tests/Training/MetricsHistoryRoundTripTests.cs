using System.Text.Json;
using FineTune.MLNet.Training;
using Xunit;

namespace FineTune.MLNet.Tests.Training;

/// <summary>
/// The per-step task metrics (DPO's rewards/*, logps/*) ride in trainer_state.json across a resume: every double must
/// come back bit for bit (a NaN of a skipped step as NaN), and a state written before the field existed reads as empty.
/// </summary>
public sealed class MetricsHistoryRoundTripTests
{
    [Fact]
    public void MetricsHistoryComesBackBitForBit()
    {
        double[] values = [0.1 + 0.2, -1e-300, Math.PI / 3, double.Epsilon, 123456.789e10, double.NaN, double.PositiveInfinity, -0.0];
        var state = new TrainerState { GlobalStep = 2, Seed = 3, TotalSteps = 4 };
        for (var i = 0; i < values.Length; i++)
            state.MetricsHistory.Add(new MetricsRecord(i / 4, i + 1, i % 3 == 0, new() { ["rewards/margins"] = values[i], ["logps/chosen"] = -values[i] }));

        var json = JsonSerializer.Serialize(state);
        var back = JsonSerializer.Deserialize<TrainerState>(json)!;

        Assert.Equal(values.Length, back.MetricsHistory.Count);
        var compared = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var (a, b) = (state.MetricsHistory[i], back.MetricsHistory[i]);
            Assert.Equal((a.Epoch, a.Step, a.IsValidation), (b.Epoch, b.Step, b.IsValidation));
            foreach (var (name, value) in a.Metrics)
            {
                if (double.IsNaN(value)) Assert.True(double.IsNaN(b.Metrics[name]), $"{name}[{i}]");   // "NaN" keeps no sign or payload
                else Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(b.Metrics[name]));
                compared++;
            }
        }
        Assert.Equal(2 * values.Length, compared);
    }

    [Fact]
    public void AStateWithoutTheFieldReadsAsAnEmptyHistory()
    {
        var back = JsonSerializer.Deserialize<TrainerState>("""{"global_step": 5, "seed": 1, "total_steps": 9}""")!;
        Assert.Equal(5, back.GlobalStep);
        Assert.Empty(back.MetricsHistory);
    }
}
