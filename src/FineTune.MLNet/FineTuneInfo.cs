namespace FineTune.MLNet;
/// <summary>Library version marker.</summary>
public static class FineTuneInfo { public const string Name = "FineTune.MLNet"; }
