import type { SearchAttributes, SearchAttributeType } from '../../../../common/search-attributes.ts';

/**
 * An execution's search attributes as a small table. A datetime (held as ms since epoch) is
 * shown as a time when the workflow type says it is one.
 */
export function SearchAttributesTable({ values, types }: { values: SearchAttributes; types?: Record<string, SearchAttributeType> }) {
  return (
    <table className="compact" data-testid="search-attributes-table">
      <tbody>
        {Object.entries(values).map(([name, value]) => (
          <tr key={name} data-attribute={name}>
            <th className="mono">{name}</th>
            <td className="mono">{attributeText(value, types?.[name])}</td>
            <td className="muted small">{types?.[name] ?? typeof value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `customerId=c-1 amount=42` for a listing row; empty when there are none. */
export function attributesInline(values: SearchAttributes | undefined): string {
  return Object.entries(values ?? {}).map(([name, value]) => `${name}=${String(value)}`).join(' ');
}

function attributeText(value: string | number | boolean, type: SearchAttributeType | undefined): string {
  if (type === 'datetime' && typeof value === 'number') return new Date(value).toISOString();
  return typeof value === 'string' ? value : JSON.stringify(value);
}
