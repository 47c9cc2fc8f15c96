using System.Text;
using System.Text.Json;
using Notifications.Domain.Model;
using Notifications.Domain.Persistence;

namespace Notifications.Api.Sending;

/// <summary>
/// Checks a send request field by field and names every bad field the way the client wrote it
/// (<c>title</c>, <c>notifications[3].channels[0]</c>). Size limits on the payload fields are reported as
/// "too large" so the API can answer 413 when they are the only problem.
/// </summary>
internal static class SendRequestValidator
{
    public const int MaximumUserIdLength = 200;
    public const int MaximumNameLength = 100;
    public const int MaximumTitleLength = 200;
    public const int MaximumBodyBytes = 10 * 1024;
    public const int MaximumDataBytes = 32 * 1024;
    public const int MaximumBatchSize = 1000;

    private const string EmptyObject = "{}";

    private const string NulMessage = "Must not contain the NUL character (U+0000), which cannot be stored.";

    private static readonly IReadOnlyList<DeliveryChannel> AllChannels = Enum.GetValues<DeliveryChannel>();

    public static NotificationDraft? Validate(SendNotificationRequest request, SendValidationErrors errors, string prefix = "")
    {
        var userId = ValidateUserId(request.UserId, $"{prefix}userId", errors);
        var content = ValidateContent(request.Type, request.Category, request.Priority, request.Title, request.Body, request.Data, request.Channels, prefix, errors);
        return userId is null || content is null ? null : content with { UserId = userId };
    }

    /// <summary>Validates a batch; returns one draft per recipient, in request order, or null when anything is invalid.</summary>
    public static IReadOnlyList<NotificationDraft>? Validate(SendBatchRequest request, SendValidationErrors errors)
    {
        var hasRecipients = request.UserIds is not null;
        var hasEvents = request.Notifications is not null;
        if (hasRecipients == hasEvents)
        {
            errors.Add(hasRecipients ? "notifications" : "userIds",
                "Send either 'userIds' with the notification's fields, or 'notifications', a list of separate notifications.");
            return null;
        }

        if (hasEvents)
        {
            var events = request.Notifications!;
            if (!CheckBatchSize(events.Length, "notifications", errors))
            {
                return null;
            }
            if (request.Type is not null || request.Title is not null || request.Body is not null || request.Category is not null)
            {
                errors.Add("notifications", "With 'notifications', each item carries its own fields; leave the top-level content fields out.");
            }
            var drafts = new List<NotificationDraft>(events.Length);
            for (var index = 0; index < events.Length; index++)
            {
                if (events[index] is null)
                {
                    errors.Add($"notifications[{index}]", "The item must be a notification object.");
                    continue;
                }
                if (Validate(events[index], errors, $"notifications[{index}].") is { } draft)
                {
                    drafts.Add(draft);
                }
            }
            return errors.Count == 0 ? drafts : null;
        }

        var userIds = request.UserIds!;
        if (!CheckBatchSize(userIds.Length, "userIds", errors))
        {
            return null;
        }
        var validIds = new List<string>(userIds.Length);
        for (var index = 0; index < userIds.Length; index++)
        {
            if (ValidateUserId(userIds[index], $"userIds[{index}]", errors) is { } userId)
            {
                validIds.Add(userId);
            }
        }
        var content = ValidateContent(request.Type, request.Category, request.Priority, request.Title, request.Body, request.Data, request.Channels, "", errors);
        if (content is null || errors.Count > 0)
        {
            return null;
        }
        return [.. validIds.Select(userId => content with { UserId = userId })];
    }

    private static bool CheckBatchSize(int count, string field, SendValidationErrors errors)
    {
        if (count is < 1 or > MaximumBatchSize)
        {
            errors.Add(field, $"Must hold between 1 and {MaximumBatchSize} items (held {count}).");
            return false;
        }
        return true;
    }

    private static string? ValidateUserId(string? userId, string field, SendValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(userId))
        {
            errors.Add(field, "The user id is required.");
            return null;
        }
        if (userId.Length > MaximumUserIdLength || userId.Any(char.IsControl))
        {
            errors.Add(field, $"The user id must be at most {MaximumUserIdLength} characters, without control characters.");
            return null;
        }
        return userId;
    }

    /// <summary>Everything but the recipient; the returned draft's <c>UserId</c> is empty.</summary>
    private static NotificationDraft? ValidateContent(
        string? type, string? category, string? priority, string? title, string? body, JsonElement? data, string[]? channels,
        string prefix, SendValidationErrors errors)
    {
        var before = errors.Count;
        var validType = ValidateName(type, $"{prefix}type", errors);
        var validCategory = ValidateName(category, $"{prefix}category", errors);

        var validPriority = NotificationPriority.Normal;
        if (priority is not null)
        {
            if (SnakeCaseEnum<NotificationPriority>.AllNames.Contains(priority, StringComparer.Ordinal))
            {
                validPriority = SnakeCaseEnum<NotificationPriority>.FromName(priority);
            }
            else
            {
                errors.Add($"{prefix}priority", $"Must be one of: {string.Join(", ", SnakeCaseEnum<NotificationPriority>.AllNames)}.");
            }
        }

        if (string.IsNullOrWhiteSpace(title))
        {
            errors.Add($"{prefix}title", "The title is required.");
        }
        else if (title.Length > MaximumTitleLength)
        {
            errors.Add($"{prefix}title", $"The title must be at most {MaximumTitleLength} characters (was {title.Length}).");
        }
        else if (title.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"{prefix}title", NulMessage);
        }

        if (body is null)
        {
            errors.Add($"{prefix}body", "The body is required (it may be empty).");
        }
        else if (Encoding.UTF8.GetByteCount(body) > MaximumBodyBytes)
        {
            errors.AddTooLarge($"{prefix}body", $"The body must be at most {MaximumBodyBytes} bytes of UTF-8.");
        }
        else if (body.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"{prefix}body", NulMessage);
        }

        var dataJson = EmptyObject;
        if (data is { } element && element.ValueKind != JsonValueKind.Null)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{prefix}data", "Must be a JSON object.");
            }
            else
            {
                dataJson = element.GetRawText();
                if (Encoding.UTF8.GetByteCount(dataJson) > MaximumDataBytes)
                {
                    errors.AddTooLarge($"{prefix}data", $"The data must be at most {MaximumDataBytes} bytes of JSON.");
                }
                else if (dataJson.Contains("\\u0000", StringComparison.OrdinalIgnoreCase) && ContainsNul(element))
                {
                    errors.Add($"{prefix}data", NulMessage);
                }
            }
        }

        var validChannels = ValidateChannels(channels, $"{prefix}channels", errors);
        return errors.Count > before
            ? null
            : new NotificationDraft("", validType!, validCategory!, validPriority, title!, body!, dataJson, validChannels!);
    }

    /// <summary>Types and categories: 1–100 of letters, digits and <c>. _ - :</c> (e.g. <c>comment.created</c>).</summary>
    private static string? ValidateName(string? name, string field, SendValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(field, "Required.");
            return null;
        }
        if (name.Length > MaximumNameLength || !name.All(IsNameCharacter))
        {
            errors.Add(field, $"Must be 1 to {MaximumNameLength} letters, digits, '.', '_', '-' or ':'.");
            return null;
        }
        return name;
    }

    /// <summary>Whether a string or property name anywhere in <paramref name="element"/> holds U+0000 (jsonb refuses it).</summary>
    private static bool ContainsNul(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!.Contains('\0', StringComparison.Ordinal),
        JsonValueKind.Object => element.EnumerateObject().Any(property => property.Name.Contains('\0', StringComparison.Ordinal) || ContainsNul(property.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(ContainsNul),
        _ => false,
    };

    private static bool IsNameCharacter(char character) =>
        char.IsAsciiLetterOrDigit(character) || character is '.' or '_' or '-' or ':';

    private static IReadOnlyList<DeliveryChannel>? ValidateChannels(string[]? channels, string field, SendValidationErrors errors)
    {
        if (channels is null)
        {
            return AllChannels;
        }
        if (channels.Length == 0)
        {
            errors.Add(field, "Name at least one channel, or leave the field out to use every channel.");
            return null;
        }
        var valid = new List<DeliveryChannel>(channels.Length);
        for (var index = 0; index < channels.Length; index++)
        {
            if (channels[index] is { } name && SnakeCaseEnum<DeliveryChannel>.AllNames.Contains(name, StringComparer.Ordinal))
            {
                var channel = SnakeCaseEnum<DeliveryChannel>.FromName(name);
                if (!valid.Contains(channel))
                {
                    valid.Add(channel);
                }
            }
            else
            {
                errors.Add($"{field}[{index}]", $"Must be one of: {string.Join(", ", SnakeCaseEnum<DeliveryChannel>.AllNames)}.");
            }
        }
        return valid;
    }
}

/// <summary>Field errors of a send request, and whether they are all payload-size errors.</summary>
internal sealed class SendValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private bool _hasOtherThanTooLarge;

    public int Count => _errors.Count;

    /// <summary>True when every error is a size limit: the request is well-formed but carries too much.</summary>
    public bool AllTooLarge => _errors.Count > 0 && !_hasOtherThanTooLarge;

    public void Add(string field, string message)
    {
        _hasOtherThanTooLarge = true;
        Append(field, message);
    }

    public void AddTooLarge(string field, string message) => Append(field, message);

    public Dictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    private void Append(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }
        messages.Add(message);
    }
}
