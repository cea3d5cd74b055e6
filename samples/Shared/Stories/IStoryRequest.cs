/// <summary>A request prompt with its reference story: what the story SFT recipe (<see cref="StorySft"/>) trains on.</summary>
public interface IStoryRequest
{
    string Prompt { get; }
    string Story { get; }
}
