using TorchSharp;
using Xunit;
namespace FineTune.MLNet.Tests;
public class SmokeTests
{
    [Fact]
    public void TorchLoads()
    {
        using var a = torch.ones(2, 3);
        Assert.Equal(6f, a.sum().item<float>());
    }
}
