// The quality menu in video.js's control bar: video.js's own MenuButton and MenuItem components, so it
// looks, opens and takes the keyboard like the other menus. What it lists and what a choice does come
// from a QualityModel: hls.js levels ("Auto" and each level) or the HTTP-FLV rungs of a ladder (each
// choice reloads the player on that rung's stream). The page calls refresh() on its stats tick: the
// items are rebuilt only when the list changes, the check mark and the button's label every time.
import videojsModule from 'video.js';
import { cjsDefault } from './interop.js';

const videojs = cjsDefault(videojsModule);
type VjsPlayer = ReturnType<typeof videojs>;

/** `value` -1 is "Auto" (the engine chooses); any other value is the model's own index. */
export interface QualityChoice {
  readonly value: number;
  readonly label: string;
}

export interface QualityModel {
  /** In menu order, top first. */
  choices(): readonly QualityChoice[];
  /** The value of the checked choice. */
  selected(): number;
  /** The button's short text: what is on screen ("Auto 240p", "360p"). */
  label(): string;
  choose(value: number): void;
}

export interface QualityMenu {
  refresh(): void;
  /** The button's root element (the tests find it by the class vjs-quality-menu). */
  readonly el: Element;
}

// video.js's runtime classes, typed as far as this file uses them (their .d.ts types createItems as void).
interface VjsComponent {
  el(): Element;
}
interface VjsMenuItem extends VjsComponent {
  selected(on: boolean): void;
}
type MenuItemClass = new (player: VjsPlayer, options: { label: string; selectable: boolean; selected: boolean }) => VjsMenuItem & {
  handleClick(event: Event): void;
};
interface VjsMenuButton extends VjsComponent {
  update(): void;
  controlText(text: string): void;
  hideThreshold_: number;
}
type MenuButtonClass = new (player: VjsPlayer, options?: object) => VjsMenuButton & {
  createEl(): Element;
  buildCSSClass(): string;
  buildWrapperCSSClass(): string;
};
interface VjsControlBar {
  addChild(child: VjsComponent, options: object, index: number): void;
  children(): VjsComponent[];
  getChild(name: string): VjsComponent | undefined;
}

const choicesKey = (cs: readonly QualityChoice[]): string => cs.map((c) => `${c.value}:${c.label}`).join('|');

/** Adds the menu to the player's control bar, before the fullscreen toggle; hidden while there is one choice or none. */
export function addQualityMenu(player: VjsPlayer, model: QualityModel): QualityMenu {
  const MenuButton = videojs.getComponent('MenuButton') as unknown as MenuButtonClass;
  const MenuItem = videojs.getComponent('MenuItem') as unknown as MenuItemClass;
  let items: { value: number; item: VjsMenuItem }[] = [];
  let labelEl: HTMLElement | undefined;

  class QualityItem extends MenuItem {
    constructor(
      p: VjsPlayer,
      private readonly choice: QualityChoice,
    ) {
      super(p, { label: choice.label, selectable: true, selected: choice.value === model.selected() });
      (this.el() as HTMLElement).dataset.quality = String(choice.value);
    }
    override handleClick(event: Event): void {
      super.handleClick(event);
      model.choose(this.choice.value);
      menu.refresh();
    }
  }

  class QualityButton extends MenuButton {
    override createEl(): Element {
      const el = super.createEl();
      labelEl = document.createElement('div');
      labelEl.className = 'vjs-quality-value';
      el.appendChild(labelEl);
      return el;
    }
    override buildCSSClass(): string {
      return `vjs-quality-menu ${super.buildCSSClass()}`;
    }
    override buildWrapperCSSClass(): string {
      return `vjs-quality-menu ${super.buildWrapperCSSClass()}`;
    }
    // Called by MenuButton's constructor and update(): the items of the current choices.
    createItems(): VjsMenuItem[] {
      items = model.choices().map((c) => ({ value: c.value, item: new QualityItem(player, c) }));
      return items.map((x) => x.item);
    }
  }

  const button = new QualityButton(player);
  // A single choice is no choice: hide the button then, as video.js does for an empty menu.
  button.hideThreshold_ = 1;
  button.controlText('Quality');
  const bar = (player as unknown as { getChild(name: string): VjsControlBar | undefined }).getChild('ControlBar');
  if (bar) {
    const fullscreen = bar.getChild('FullscreenToggle');
    const at = fullscreen ? bar.children().indexOf(fullscreen) : bar.children().length;
    bar.addChild(button, {}, at < 0 ? bar.children().length : at);
  }

  let shown = choicesKey(model.choices());
  const menu: QualityMenu = {
    el: button.el(),
    refresh: () => {
      const now = model.choices();
      const key = choicesKey(now);
      if (key !== shown) {
        shown = key;
        button.update();
      }
      const sel = model.selected();
      for (const x of items) x.item.selected(x.value === sel);
      if (labelEl) labelEl.textContent = model.label();
    },
  };
  menu.refresh();
  return menu;
}
