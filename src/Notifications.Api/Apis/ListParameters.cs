namespace Notifications.Api.Apis;

/// <summary>
/// The query parameters the list endpoints share — a <c>created_at</c> window (<c>from</c>, <c>to</c>, both inclusive)
/// and a page (<c>limit</c>, <c>offset</c>) — validated the same way everywhere; a bad one is named in the errors.
/// </summary>
/// <param name="FromUtc">The window's start in UTC (timestamptz parameters must be UTC).</param>
internal readonly record struct ListParameters(DateTimeOffset? FromUtc, DateTimeOffset? ToUtc, int Limit, int Offset)
{
    public static ListParameters Parse(
        DateTimeOffset? from, DateTimeOffset? to, int? limit, int? offset, int defaultLimit, int maximumLimit, Dictionary<string, string[]> errors)
    {
        if (from > to)
        {
            errors["from"] = ["'from' must not be later than 'to'."];
        }
        var pageSize = limit ?? defaultLimit;
        if (pageSize < 1 || pageSize > maximumLimit)
        {
            errors["limit"] = [$"Must be between 1 and {maximumLimit}."];
        }
        var skip = offset ?? 0;
        if (skip < 0)
        {
            errors["offset"] = ["Must be 0 or more."];
        }
        return new ListParameters(from?.ToUniversalTime(), to?.ToUniversalTime(), pageSize, skip);
    }
}
