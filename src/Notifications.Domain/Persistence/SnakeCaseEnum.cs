using System.Collections.Frozen;

namespace Notifications.Domain.Persistence;

/// <summary>
/// The text stored for each enum value (its snake_case name), for EF's converter and for hand-written SQL
/// (e.g. <c>WHERE status = @queued</c>).
/// </summary>
public static class SnakeCaseEnum<TEnum> where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<TEnum, string> Names =
        Enum.GetValues<TEnum>().ToFrozenDictionary(value => value, value => SnakeCase.FromPascalCase(value.ToString()));

    private static readonly FrozenDictionary<string, TEnum> Values =
        Names.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

    /// <summary>Every stored value, in declaration order: what the column's CHECK constraint allows.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [.. Enum.GetValues<TEnum>().Select(value => Names[value])];

    public static string ToName(TEnum value) =>
        Names.TryGetValue(value, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a defined {typeof(TEnum).Name}.");

    public static TEnum FromName(string name) =>
        Values.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException($"'{name}' is not a stored {typeof(TEnum).Name} value.");
}
