using System.Diagnostics.CodeAnalysis;

namespace Notifications.Domain.Digests;

/// <summary>Either a valid cadence and item limit, or the errors that prevented them.</summary>
public sealed class DigestScheduleValidationResult
{
    private DigestScheduleValidationResult(DigestCadence? cadence, int maxItems, IReadOnlyList<DigestFieldError> errors)
    {
        Cadence = cadence;
        MaxItems = maxItems;
        Errors = errors;
    }

    [MemberNotNullWhen(true, nameof(Cadence))]
    public bool IsValid => Cadence is not null;

    /// <summary>Set exactly when <see cref="IsValid"/>.</summary>
    public DigestCadence? Cadence { get; }

    /// <summary>The requested limit, or the default when none was sent; zero when invalid.</summary>
    public int MaxItems { get; }

    /// <summary>Every problem found, in field order; empty when valid.</summary>
    public IReadOnlyList<DigestFieldError> Errors { get; }

    /// <summary>The errors grouped by field, the shape <c>Results.ValidationProblem</c> takes.</summary>
    public Dictionary<string, string[]> ErrorsByField() =>
        Errors.GroupBy(error => error.Field).ToDictionary(group => group.Key, group => group.Select(error => error.Message).ToArray());

    internal static DigestScheduleValidationResult Valid(DigestCadence cadence, int maxItems) => new(cadence, maxItems, []);

    internal static DigestScheduleValidationResult Invalid(IReadOnlyList<DigestFieldError> errors) => new(null, 0, errors);
}
