import { useId, useState, type KeyboardEvent } from "react";

export interface SuggestionOption {
  id: number;
  label: string;
  detail?: string;
}

interface SearchBoxProps {
  value: string;
  onChange: (value: string) => void;
  /** Enter without a highlighted suggestion. */
  onSubmit: (value: string) => void;
  /** Enter (or click) on a suggestion. */
  onPick: (option: SuggestionOption) => void;
  suggestions: SuggestionOption[];
  placeholder?: string;
  label?: string;
}

/**
 * A search field with a suggestion list, following the WAI-ARIA combobox pattern: ArrowDown/ArrowUp move through
 * the suggestions (wrapping), Enter picks the highlighted one or submits the text, Escape closes the list and a
 * second Escape clears the field.
 */
export function SearchBox({
  value,
  onChange,
  onSubmit,
  onPick,
  suggestions,
  placeholder = "Search films, e.g. action movies with robots",
  label = "Search films",
}: SearchBoxProps) {
  const listId = useId();
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const expanded = open && suggestions.length > 0;
  const activeIndex = active < suggestions.length ? active : -1;

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case "ArrowDown":
        if (!suggestions.length) return;
        event.preventDefault();
        setOpen(true);
        setActive((i) => (i + 1) % suggestions.length);
        break;
      case "ArrowUp":
        if (!suggestions.length) return;
        event.preventDefault();
        setOpen(true);
        setActive((i) => (i <= 0 ? suggestions.length - 1 : i - 1));
        break;
      case "Enter": {
        event.preventDefault();
        const option = expanded && activeIndex >= 0 ? suggestions[activeIndex] : undefined;
        setOpen(false);
        setActive(-1);
        if (option) onPick(option);
        else onSubmit(value);
        break;
      }
      case "Escape":
        // A type="search" field clears itself on Escape in Chromium; the first Escape must only close the list.
        event.preventDefault();
        if (expanded) {
          setOpen(false);
          setActive(-1);
        } else if (value) {
          onChange("");
        }
        break;
      default:
        break;
    }
  };

  return (
    <div className="relative w-full">
      <label htmlFor={`${listId}-input`} className="sr-only">
        {label}
      </label>
      <input
        id={`${listId}-input`}
        type="search"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        aria-expanded={expanded}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={expanded && activeIndex >= 0 ? `${listId}-${activeIndex}` : undefined}
        value={value}
        placeholder={placeholder}
        maxLength={200}
        onChange={(event) => {
          onChange(event.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => {
          setOpen(true);
        }}
        onBlur={() => {
          setOpen(false);
        }}
        onKeyDown={onKeyDown}
        className="w-full rounded-lg border border-zinc-300 bg-white px-4 py-2.5 text-base shadow-sm placeholder:text-zinc-600 dark:text-zinc-400 focus:border-violet-500 focus:outline-2 focus:outline-violet-500 dark:border-zinc-700 dark:bg-zinc-900"
      />
      <ul
        id={listId}
        role="listbox"
        aria-label="Suggestions"
        hidden={!expanded}
        className="absolute z-20 mt-1 max-h-80 w-full overflow-auto rounded-lg border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
      >
        {suggestions.map((option, index) => (
          <li
            key={option.id}
            id={`${listId}-${index}`}
            role="option"
            aria-selected={index === activeIndex}
            aria-label={option.detail ? `${option.label} (${option.detail})` : option.label}
            // mousedown, not click: it fires before the input's blur closes the list
            onMouseDown={(event) => {
              event.preventDefault();
              setOpen(false);
              onPick(option);
            }}
            className={`cursor-pointer px-4 py-2 text-sm ${
              index === activeIndex ? "bg-violet-100 dark:bg-violet-900/60" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"
            }`}
          >
            {option.label}
            {option.detail ? <span className="ml-2 text-zinc-600 dark:text-zinc-400">{option.detail}</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
