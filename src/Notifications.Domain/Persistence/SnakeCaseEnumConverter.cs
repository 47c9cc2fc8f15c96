using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Notifications.Domain.Persistence;

/// <summary>Stores an enum as its snake_case name in a text column.</summary>
public sealed class SnakeCaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(
    value => SnakeCaseEnum<TEnum>.ToName(value),
    name => SnakeCaseEnum<TEnum>.FromName(name))
    where TEnum : struct, Enum;
