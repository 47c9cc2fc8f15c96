namespace Notifications.Api.Problems;

/// <summary>
/// Stable <c>type</c> URIs of the API's RFC 7807 problem details. Clients branch on these, so a value never changes
/// once published; add a new one rather than reuse one for a different meaning.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "https://notifications.dev/problems/";

    /// <summary>400: the request is malformed or a field is invalid; <c>errors</c> names the fields.</summary>
    public const string Validation = Base + "validation";

    /// <summary>401: no bearer token, or one that is expired, badly signed or for another issuer/audience.</summary>
    public const string Unauthorized = Base + "unauthorized";

    /// <summary>403: a valid token that lacks the role or scope the route requires.</summary>
    public const string Forbidden = Base + "forbidden";

    /// <summary>404: no such resource, or one that belongs to someone else.</summary>
    public const string NotFound = Base + "not-found";

    /// <summary>405: the route exists but not with this HTTP method.</summary>
    public const string MethodNotAllowed = Base + "method-not-allowed";

    /// <summary>409: the resource's state does not allow the operation (e.g. cancelling a job already sent).</summary>
    public const string Conflict = Base + "conflict";

    /// <summary>409: a request with the same <c>Idempotency-Key</c> is still being processed.</summary>
    public const string IdempotencyInFlight = Base + "idempotency-in-flight";

    /// <summary>422: the <c>Idempotency-Key</c> was already used with a different request body.</summary>
    public const string IdempotencyConflict = Base + "idempotency-conflict";

    /// <summary>413: the request body, or one of its fields, is larger than allowed.</summary>
    public const string PayloadTooLarge = Base + "payload-too-large";

    /// <summary>415: the request body is not JSON.</summary>
    public const string UnsupportedMediaType = Base + "unsupported-media-type";

    /// <summary>429: the caller's request budget for the current window is spent; see <c>Retry-After</c>.</summary>
    public const string RateLimited = Base + "rate-limited";

    /// <summary>500: an unexpected error; the <c>traceId</c> finds it in the logs and traces.</summary>
    public const string InternalError = Base + "internal-error";

    /// <summary>503: a dependency the operation needs is unavailable; retrying later may succeed.</summary>
    public const string ServiceUnavailable = Base + "service-unavailable";

    /// <summary>The type a problem with this status code gets when the code that produced it did not choose one.</summary>
    public static string? ForStatusCode(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => Validation,
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status409Conflict => Conflict,
        StatusCodes.Status413PayloadTooLarge => PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => RateLimited,
        StatusCodes.Status500InternalServerError => InternalError,
        StatusCodes.Status503ServiceUnavailable => ServiceUnavailable,
        _ => null,
    };
}
