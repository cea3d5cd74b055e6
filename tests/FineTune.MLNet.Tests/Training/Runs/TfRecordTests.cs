using FineTune.MLNet.Training.Runs;
using Xunit;

namespace FineTune.MLNet.Tests.Training.Runs;

public sealed class TfRecordTests
{
    /// <summary>RFC 3720 appendix B.4 (iSCSI CRC32C test vectors) and the "123456789" check value of CRC-32C.</summary>
    public static TheoryData<byte[], uint> Vectors => new()
    {
        { new byte[32], 0x8A9136AAu },
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43u },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794Eu },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5Cu },
        { "123456789"u8.ToArray(), 0xE3069283u },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Crc32CMatchesPublishedVectors(byte[] data, uint expected)
    {
        Assert.Equal(expected, System.IO.Hashing.Crc32.HashToUInt32(System.IO.Hashing.Crc32ParameterSet.Crc32C, data));
        Assert.Equal(expected, TfRecordTestReader.Crc32C(data));   // the test reader's own CRC agrees
        var unmasked = unchecked(TfRecordWriter.MaskedCrc32C(data) - 0xa282ead8u);
        Assert.Equal(expected, (unmasked << 15) | (unmasked >> 17));  // Mask is a rotation plus a constant
    }

    [Fact]
    public void EventFileReadsBackWithVersionFirstThenScalars()
    {
        var dir = TestSupport.TestTempRoot.NewFolder("tfevents");
        var t = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250);
        string path;
        using (var writer = new TensorBoardEventWriter(dir, t))
        {
            path = writer.Path;
            writer.WriteSessionStart(t, 4);
            writer.WriteScalars(t, 5, [new("loss", "train/loss", 0.5), new("learning_rate", "train/learning_rate", 1e-3)]);
            writer.WriteScalars(t, 6, [new("loss", "train/loss", -2.25)]);
        }
        Assert.StartsWith("events.out.tfevents.1700000000.", Path.GetFileName(path));
        var events = TfRecordTestReader.ReadEvents(path);
        Assert.Equal(4, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(1_700_000_000.25, events[0].WallTime);
        Assert.Equal((4L, 1), (events[1].Step, events[1].SessionStatus!.Value));
        Assert.Equal(5, events[2].Step);
        Assert.Equal([("train/loss", 0.5f), ("train/learning_rate", 1e-3f)], events[2].Scalars);
        Assert.Equal([("train/loss", -2.25f)], events[3].Scalars);
        Assert.Equal(6, events[3].Step);
    }
}
