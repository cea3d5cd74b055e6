using FineTune.MLNet.Tokenization;
using Xunit;

namespace FineTune.MLNet.Tests.Tokenization;

public class LongestFirstTruncationTests
{
    /// <summary>The rule spelled out literally: drop one token from the longer sequence (the second on ties) until it fits.</summary>
    private static (int, int) OneAtATime(int a, int b, int budget)
    {
        while (a + b > budget)
        {
            if (a > b)
            {
                a--;
            }
            else
            {
                b--;
            }
        }

        return (a, b);
    }

    [Theory]
    [InlineData(5, 2, 5, 3, 2)]   // only the longer loses tokens
    [InlineData(2, 5, 4, 2, 2)]
    [InlineData(4, 4, 5, 3, 2)]   // tie: the second loses first, so the first keeps ceil(5/2)
    [InlineData(10, 3, 100, 10, 3)] // fits: untouched
    [InlineData(7, 7, 0, 0, 0)]
    [InlineData(6, 3, 5, 3, 2)]   // HF: first_remove=3 from a, then 1 more from the pair
    public void KeepsTheExpectedLengths(int a, int b, int budget, int keepA, int keepB)
    {
        Assert.Equal((keepA, keepB), LongestFirstTruncation.KeptLengths(a, b, budget));
    }

    [Fact]
    public void ClosedFormEqualsTheOneAtATimeRuleEverywhere()
    {
        for (int a = 0; a <= 20; a++)
        {
            for (int b = 0; b <= 20; b++)
            {
                for (int budget = 0; budget <= 42; budget++)
                {
                    Assert.Equal(OneAtATime(a, b, budget), LongestFirstTruncation.KeptLengths(a, b, budget));
                }
            }
        }
    }
}
