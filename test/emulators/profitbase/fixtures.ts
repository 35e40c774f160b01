/**
 * Unit ("помещение") objects of the Profitbase emulator, shaped like the real `GET /property`
 * items (research inventory.md §5.1), and the default custom statuses (§5.2).
 */

export const BASE_STATUSES = ['AVAILABLE', 'BOOKED', 'EXECUTION', 'SOLD', 'UNAVAILABLE'] as const;
export type PbBaseStatus = (typeof BASE_STATUSES)[number];

export interface PbCustomStatus {
  id: number;
  name: string;
  baseStatus: PbBaseStatus;
}

/** One custom status per base status (ids/names illustrative, as in research §5.2). */
export const DEFAULT_CUSTOM_STATUSES: PbCustomStatus[] = [
  { id: 123476, name: 'Свободно', baseStatus: 'AVAILABLE' },
  { id: 123477, name: 'Бронь', baseStatus: 'BOOKED' },
  { id: 123478, name: 'Оформление', baseStatus: 'EXECUTION' },
  { id: 123479, name: 'Продано', baseStatus: 'SOLD' },
  { id: 123480, name: 'Не в продаже', baseStatus: 'UNAVAILABLE' },
];

export interface PbCustomField {
  id: string;
  name: string;
  value: string | number | null;
}

export interface PbUnit {
  id: number;
  house_id: number;
  number: string;
  rooms_amount: number;
  floor: number;
  studio: boolean;
  free_layout: boolean;
  euro_layout: boolean;
  propertyType: string;
  typePurpose: string;
  has_related_preset_with_layout: boolean;
  externalId: string | null;
  area: {
    area_total: string;
    area_estimated: string | null;
    area_living: string | null;
    area_kitchen: string | null;
    area_balcony: string | null;
    area_without_balcony: string | null;
  };
  paymentTypes: unknown[];
  houseName: string;
  sectionName: string;
  projectName: string;
  specialOffers: unknown[];
  address: string;
  section: string;
  preset: string | null;
  attachments: unknown[];
  planImages: unknown[];
  attributes: Record<string, string | number | null>;
  custom_fields: PbCustomField[];
  price: { value: number; pricePerMeter: number };
  status: PbBaseStatus;
  customStatusId: number;
  responsibleName: string | null;
  responsibleId: number | null;
  crmContactName: string | null;
  crmContactId: number | null;
  countHistoryRecord: string;
  countDeals: number;
  bookedUntilDate: string | null;
  bookedUntilTime: string | null;
  bookedAt: string | null;
  soldAt: string | null;
}

export interface PbHouse {
  id: number;
  title: string;
  projectId: number;
  projectName: string;
  address: string;
  isArchive: boolean;
}

/** `YYYY-MM-DD HH:mm:ss` in Moscow time (UTC+3), the way Russian back-ends print dates. */
export function pbDateTime(ms: number): string {
  return new Date(ms + 3 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export function pbDate(ms: number): string {
  return pbDateTime(ms).slice(0, 10);
}

export function pbTime(ms: number): string {
  return pbDateTime(ms).slice(11, 16);
}

export function makeUnits(count: number, house: PbHouse, firstId: number): PbUnit[] {
  const layouts = [
    { rooms: 1, area: 36.4 },
    { rooms: 2, area: 54.8 },
    { rooms: 3, area: 78.2 },
  ];
  const perFloor = 3;
  const units: PbUnit[] = [];
  for (let i = 0; i < count; i++) {
    const layout = layouts[i % layouts.length] ?? { rooms: 1, area: 36.4 };
    const floor = Math.floor(i / perFloor) + 2;
    const number = String(i + 1);
    const pricePerMeter = 240_000 + floor * 2_000;
    const price = Math.round(layout.area * pricePerMeter);
    units.push({
      id: firstId + i,
      house_id: house.id,
      number,
      rooms_amount: layout.rooms,
      floor,
      studio: false,
      free_layout: false,
      euro_layout: false,
      propertyType: 'property',
      typePurpose: 'residential',
      has_related_preset_with_layout: false,
      externalId: null,
      area: {
        area_total: layout.area.toFixed(2),
        area_estimated: null,
        area_living: null,
        area_kitchen: null,
        area_balcony: null,
        area_without_balcony: null,
      },
      paymentTypes: [],
      houseName: house.title,
      sectionName: 'Подъезд 1',
      projectName: house.projectName,
      specialOffers: [],
      address: `${house.address}, эт. ${floor}, № ${number}`,
      section: 'Подъезд 1',
      preset: null,
      attachments: [],
      planImages: [],
      attributes: {
        loggia_count: null,
        balcony_count: null,
        combined_bathroom_count: null,
        separated_bathroom_count: null,
        position_on_floor: null,
        bti_number: null,
        deposit_type: null,
        bti_area: null,
        window_view: null,
        description: null,
        code: number,
        facing: null,
      },
      custom_fields: [
        { id: 'number', name: 'Номер помещения', value: number },
        { id: 'property_price', name: 'Полная цена', value: price },
        { id: 'amo_responsible_name', name: 'Менеджер', value: null },
        { id: 'amo_contact_name', name: 'Покупатель', value: null },
        { id: 'building_states', name: 'Стадия строительства', value: 'Строится' },
      ],
      price: { value: price, pricePerMeter },
      status: 'AVAILABLE',
      customStatusId: 123476,
      responsibleName: null,
      responsibleId: null,
      crmContactName: null,
      crmContactId: null,
      countHistoryRecord: '0',
      countDeals: 0,
      bookedUntilDate: null,
      bookedUntilTime: null,
      bookedAt: null,
      soldAt: null,
    });
  }
  return units;
}
