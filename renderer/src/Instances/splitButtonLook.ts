/**
 * The class names of Cloudscape's split button (ButtonDropdown with a main
 * action), read once from Cloudscape's own markup for it, so the Connect-as
 * stand-in looks exactly like the real control in this Cloudscape version and
 * theme without naming Cloudscape's generated classes anywhere.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import ButtonDropdown from '@cloudscape-design/components/button-dropdown';

export interface SplitButtonLook {
  root: string;
  dropdownRoot: string;
  dropdownTrigger: string;
  group: string;
  mainItem: string;
  mainButton: string;
  mainButtonDisabled: string;
  mainText: string;
  triggerItem: string;
  triggerButton: string;
  triggerIcon: string;
  svg: { viewBox: string; path: string; pathClass: string };
  content: string;
  /** Cloudscape's hover-motion markers on both buttons. */
  motion: Record<string, string>;
}

function markup(disabled: boolean): Element {
  const html = renderToStaticMarkup(
    createElement(ButtonDropdown, {
      variant: 'normal',
      expandToViewport: true,
      ariaLabel: 'more',
      mainAction: { text: 'main', disabled, disabledReason: disabled ? 'reason' : undefined },
      items: [{ id: 'item', text: 'item' }],
    }),
  );
  const template = document.createElement('template');
  template.innerHTML = html;
  const root = template.content.firstElementChild;
  if (!root) throw new Error('Cloudscape rendered no split button');
  return root;
}

/** The element at `selector` under `root`, which Cloudscape's split button must have. */
function part(root: Element, selector: string): Element {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`Cloudscape's split button has no ${selector}`);
  return found;
}

function read(): SplitButtonLook {
  const enabled = markup(false);
  const disabled = markup(true);
  const group = part(enabled, '[role="group"]');
  const [mainItem, triggerItem] = [...group.children];
  if (!mainItem || !triggerItem) throw new Error("Cloudscape's split button has no main action and trigger");
  const mainButton = part(mainItem, 'button');
  const triggerButton = part(triggerItem, 'button');
  const icon = part(triggerButton, 'span');
  const svg = part(icon, 'svg');
  const path = part(svg, 'path');
  const motion: Record<string, string> = {};
  for (const { name, value } of [...mainButton.attributes])
    if (name.startsWith('data-awsui-motion-')) motion[name] = value;
  return {
    root: enabled.className,
    dropdownRoot: part(enabled, ':scope > div').className,
    dropdownTrigger: part(enabled, ':scope > div > div').className,
    group: group.className,
    mainItem: mainItem.className,
    mainButton: mainButton.className,
    mainButtonDisabled: part(part(disabled, '[role="group"]'), 'button').className,
    mainText: part(mainButton, 'span').className,
    triggerItem: triggerItem.className,
    triggerButton: triggerButton.className,
    triggerIcon: icon.className,
    svg: {
      viewBox: svg.getAttribute('viewBox') ?? '0 0 16 16',
      path: path.getAttribute('d') ?? '',
      pathClass: path.getAttribute('class') ?? '',
    },
    content: part(enabled, ':scope > div > div:last-child').className,
    motion,
  };
}

let look: SplitButtonLook | undefined;
/** Read on first use (one static render of Cloudscape's component, about a millisecond), then kept. */
export function splitButtonLook(): SplitButtonLook {
  return (look ??= read());
}
