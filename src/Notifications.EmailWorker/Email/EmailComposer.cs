using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notifications.Domain.Unsubscribe;
using Notifications.EmailWorker.Email.Templates;

namespace Notifications.EmailWorker.Email;

/// <summary>
/// Turns loaded content into an <see cref="EmailMessage"/>: subject, HTML and text from the templates, and the
/// unsubscribe link (in the body and, per RFC 8058, as <c>List-Unsubscribe</c> with one-click
/// <c>List-Unsubscribe-Post</c>). A notification's link unsubscribes from its category; a digest's from all email.
/// </summary>
internal sealed class EmailComposer
{
    public const string ListUnsubscribeHeader = "List-Unsubscribe";
    public const string ListUnsubscribePostHeader = "List-Unsubscribe-Post";
    public const string OneClickValue = "List-Unsubscribe=One-Click";

    private const string DateFormat = "d MMM yyyy, HH:mm 'UTC'";

    private readonly EmailTemplates _templates;
    private readonly UnsubscribeTokens _tokens;
    private readonly string _from;
    private readonly string _unsubscribeUrlPrefix;
    private readonly string? _unsubscribeMailto;

    public EmailComposer(EmailTemplates templates, UnsubscribeTokens tokens, IOptions<EmailOptions> options)
    {
        var settings = options.Value;
        _templates = templates;
        _tokens = tokens;
        _from = settings.From ?? EmailOptions.DevelopmentFrom;
        _unsubscribeUrlPrefix = settings.PublicBaseUrl!.AbsoluteUri.TrimEnd('/') + "/api/unsubscribe?token=";
        _unsubscribeMailto = string.IsNullOrWhiteSpace(settings.UnsubscribeMailto)
            ? null
            : $"<mailto:{settings.UnsubscribeMailto.Trim()}?subject=unsubscribe>";
    }

    public EmailMessage Compose(string idempotencyKey, string address, EmailContent content)
    {
        var recipient = content.Recipient;
        var model = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["recipientName"] = string.IsNullOrWhiteSpace(recipient.DisplayName) ? "there" : recipient.DisplayName,
        };
        string template, subject, type, unsubscribeUrl;
        switch (content)
        {
            case NotificationEmailContent notification:
                template = notification.Type;
                type = notification.Type;
                subject = notification.Title;
                model["title"] = notification.Title;
                model["body"] = notification.Body;
                model["type"] = notification.Type;
                model["category"] = notification.Category;
                model["createdAt"] = Format(notification.CreatedAt);
                model["data"] = ToTemplateValue(notification.Data);
                unsubscribeUrl = _unsubscribeUrlPrefix + _tokens.Create(recipient.UserId, notification.Category);
                model["unsubscribeScope"] = $"“{notification.Category}” emails";
                break;
            case DigestEmailContent digest:
                template = EmailTemplates.DigestName;
                type = EmailTemplates.DigestName;
                subject = $"Your digest: {digest.TotalItems} notification{(digest.TotalItems == 1 ? "" : "s")}";
                var items = new List<Dictionary<string, object?>>(digest.Items.Count);
                foreach (var item in digest.Items)
                {
                    items.Add(new Dictionary<string, object?>(StringComparer.Ordinal)
                    {
                        ["title"] = item.Title,
                        ["body"] = item.Body,
                        ["type"] = item.Type,
                        ["category"] = item.Category,
                        ["createdAt"] = Format(item.CreatedAt),
                    });
                }
                model["items"] = items;
                model["totalCount"] = digest.TotalItems;
                model["moreCount"] = digest.TotalItems - digest.Items.Count;
                unsubscribeUrl = _unsubscribeUrlPrefix + _tokens.Create(recipient.UserId, category: null);
                model["unsubscribeScope"] = "all email";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(content), content.GetType().Name, "Unknown email content.");
        }
        // A line break in a subject would start a new header.
        subject = subject.ReplaceLineEndings(" ");
        model["subject"] = subject;
        model["unsubscribeUrl"] = unsubscribeUrl;

        var listUnsubscribe = _unsubscribeMailto is null ? $"<{unsubscribeUrl}>" : $"<{unsubscribeUrl}>, {_unsubscribeMailto}";
        return new EmailMessage(
            idempotencyKey,
            _from,
            address,
            recipient.DisplayName,
            subject,
            _templates.RenderHtml(template, model),
            _templates.RenderText(template, model),
            [new(ListUnsubscribeHeader, listUnsubscribe), new(ListUnsubscribePostHeader, OneClickValue)],
            type);
    }

    private static string Format(DateTimeOffset instant) => instant.UtcDateTime.ToString(DateFormat, CultureInfo.InvariantCulture);

    /// <summary>The producer's JSON data as dictionaries, lists and scalars, which templates can walk (<c>{{data.ipAddress}}</c>).</summary>
    private static object? ToTemplateValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(property => property.Name, property => ToTemplateValue(property.Value), StringComparer.Ordinal),
        JsonValueKind.Array => element.EnumerateArray().Select(ToTemplateValue).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
