using System.Collections.Frozen;
using HandlebarsDotNet;

namespace Notifications.EmailWorker.Email.Templates;

/// <summary>
/// The email templates embedded in this assembly (<c>Email/Templates/*.hbs</c>), compiled once: an HTML and a
/// plain-text template per notification type (<c>{type}.html.hbs</c>, <c>{type}.txt.hbs</c>), <c>default</c> for every
/// type without its own, <c>digest</c> for digests, and partials (<c>_name.*.hbs</c>, used as <c>{{&gt; name}}</c>).
/// HTML templates escape every <c>{{value}}</c>; plain-text templates do not (there is no markup to protect).
/// Templates use <c>{{ }}</c>, never <c>{{{ }}}</c>, for anything a user or producer wrote.
/// </summary>
public sealed class EmailTemplates
{
    public const string DefaultName = "default";
    public const string DigestName = "digest";

    private const string ResourcePrefix = "EmailTemplates.";
    private const string HtmlSuffix = ".html.hbs";
    private const string TextSuffix = ".txt.hbs";

    private readonly FrozenDictionary<string, HandlebarsTemplate<object, object>> _html;
    private readonly FrozenDictionary<string, HandlebarsTemplate<object, object>> _text;

    public EmailTemplates()
    {
        var sources = LoadSources();
        _html = Compile(Handlebars.Create(), sources, HtmlSuffix);
        _text = Compile(Handlebars.Create(new HandlebarsConfiguration { NoEscape = true }), sources, TextSuffix);
        foreach (var required in new[] { DefaultName, DigestName })
        {
            if (!_html.ContainsKey(required) || !_text.ContainsKey(required))
            {
                throw new InvalidOperationException($"The email templates {required}{HtmlSuffix} and {required}{TextSuffix} must be embedded.");
            }
        }
    }

    /// <summary>Renders the HTML of <paramref name="name"/> (a type, or <see cref="DigestName"/>), or the default's.</summary>
    public string RenderHtml(string name, object model) => (_html.GetValueOrDefault(name) ?? _html[DefaultName])(model);

    public string RenderText(string name, object model) => (_text.GetValueOrDefault(name) ?? _text[DefaultName])(model);

    private static FrozenDictionary<string, HandlebarsTemplate<object, object>> Compile(
        IHandlebars handlebars, IReadOnlyDictionary<string, string> sources, string suffix)
    {
        foreach (var (resource, source) in sources)
        {
            if (resource.StartsWith('_') && resource.EndsWith(suffix, StringComparison.Ordinal))
            {
                handlebars.RegisterTemplate(resource[1..^suffix.Length], source);
            }
        }
        var templates = new Dictionary<string, HandlebarsTemplate<object, object>>(StringComparer.Ordinal);
        foreach (var (resource, source) in sources)
        {
            if (!resource.StartsWith('_') && resource.EndsWith(suffix, StringComparison.Ordinal))
            {
                templates[resource[..^suffix.Length]] = handlebars.Compile(source);
            }
        }
        return templates.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static Dictionary<string, string> LoadSources()
    {
        var assembly = typeof(EmailTemplates).Assembly;
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resourceName in assembly.GetManifestResourceNames())
        {
            if (resourceName.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(resourceName)!);
                sources[resourceName[ResourcePrefix.Length..]] = reader.ReadToEnd();
            }
        }
        return sources;
    }
}
